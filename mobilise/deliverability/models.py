from datetime import datetime

from sqlalchemy import String, UniqueConstraint
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
