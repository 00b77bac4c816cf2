from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

# queued → sending (claimed by a batch) → sent | failed; back to queued with a `retry_at` when the relay
# defers it (4xx) or the claim's worker died before sending it; skipped when the supporter left the list
# after the audience was taken; bounced when the relay reports it later.
DELIVERY_STATUSES = ("queued", "sending", "sent", "failed", "skipped", "bounced")


class Delivery(db.Model):
    """One mailing to one supporter: at most one per pair, ever (the unique key enforces it)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("mailing_id", "supporter_id"),
        # Claims take a batch's queued ids in order; recovery finds a mailing's claimed ones.
        Index("ix_deliveries_mailing_status_id", "mailing_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"))
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    # Who holds it while `sending`: a claim whose lease lives in Redis (see `sending.claims`).
    claim: Mapped[str | None] = mapped_column(String(32))
    # Temporary refusals (4xx) so far; not before `retry_at` again.
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
