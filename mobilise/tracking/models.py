from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

EVENT_KINDS = ("open", "click", "unsubscribe")


class Event(db.Model):
    """An open, click or unsubscribe that came from one delivery."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_delivery_kind", "delivery_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Made when the request arrived, so an event replayed from Redis is written once.
    event_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("mailing_links.id"))
    # A fetch with no reader behind it: a privacy proxy's prefetch, a security scanner.
    machine: Mapped[bool] = mapped_column(default=False)
    # Why it was judged so (see classify.py), e.g. "browser", "apple-mpp", "scanner-agent", "click-burst".
    reason: Mapped[str | None] = mapped_column(String(32))
    # The network, never the whole address: /24 for IPv4, /48 for IPv6.
    network: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
