from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
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


class Action(db.Model):
    """A supporter confirming they sent the appeal: at most one per supporter and case."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("supporter_id", "case_id"),
        Index("ix_actions_case_office", "case_id", "office_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    source: Mapped[str] = mapped_column(String(16), default="email")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
