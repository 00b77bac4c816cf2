from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class FeedbackEvent(db.Model):
    """A report already recorded, by who sent it and its own id: providers send an event again until they see a
    2xx (and sometimes after), and the same event must move a supporter and the counts once."""

    __tablename__ = "feedback_events"
    __table_args__ = (UniqueConstraint("source", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # ses, sendgrid, mailgun, postmark, inbound
    # A digest of the provider's event id: fixed length whatever they send, and no address even if an id held one.
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # hard, soft, complaint, unsubscribe
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class MailingSends(db.Model):
    """What one finished mailing sent, per UTC day and recipient-domain group ({"2026-12-01": {"gmail": 120, …}}),
    counted once from its deliveries: none of them is sent after its mailing is done, so an office's reputation reads
    these instead of every email of the last 30 days again (see sends.py)."""

    __tablename__ = "mailing_sends"

    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"), primary_key=True)
    days: Mapped[dict] = mapped_column(JSON)
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)
