from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .delivery_state import DeliveryStatus


class Delivery(db.Model):
    """One mailing to one supporter: at most one per pair, ever (the unique key enforces it)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("mailing_id", "supporter_id"),
        # Claims take a batch's queued ids in order; recovery finds a mailing's claimed ones.
        Index("ix_deliveries_mailing_status_id", "mailing_id", "status", "id"),
        # A claim's deliveries, found when it counts what it sent or is recovered; only held rows are indexed.
        Index(
            "ix_deliveries_claim",
            "claim",
            postgresql_where=text("claim IS NOT NULL"),
            sqlite_where=text("claim IS NOT NULL"),
        ),
        # An office's reputation reads the last 30 days of sends; without it, every delivery ever is scanned.
        Index("ix_deliveries_sent_at", "sent_at", "supporter_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"))
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id"), index=True)
    # Changed only by `delivery_state`'s transitions.
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.QUEUED)
    error: Mapped[str | None] = mapped_column(Text)
    # The claim (`SendClaim`) that holds it while `sending`, and that has yet to count it once `sent`.
    claim: Mapped[str | None] = mapped_column(String(32))
    # Temporary refusals (4xx) so far; a deferred delivery goes again at `retry_at`.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    retry_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # First open (any, and by a person), first click by a person, unsubscribe: what its mailing's counts count.
    opened_at: Mapped[datetime | None]
    opened_human_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]

    mailing = relationship("Mailing")
    supporter = relationship("Supporter")


class MailingLink(db.Model):
    """A link the service wrote into a mailing: `/c/TOKEN` redirects only to these."""

    __tablename__ = "mailing_links"
    __table_args__ = (UniqueConstraint("mailing_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"))
    url: Mapped[str] = mapped_column(Text)


class SendClaim(db.Model):
    """A batch's hold on the deliveries it is sending, for as long as its lease is renewed.

    A claim whose lease has run out belonged to a worker that died or stalled: the tick recovers its
    deliveries (`claims.recover_expired`)."""

    __tablename__ = "send_claims"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"), index=True)
    lease_until: Mapped[datetime] = mapped_column(index=True)


# The journal of what the relay accepted, one row per email, appended the moment it is accepted (see
# `delivery_state.Journal`) and applied to the deliveries in bulk. No key and no index: an append costs the
# database as little as a write can, and the table only ever holds the marks not applied yet.
sent_marks = db.Table(
    "sent_marks",
    db.Column("claim", String(32), nullable=False),
    db.Column("delivery_id", db.Integer, nullable=False),
)
