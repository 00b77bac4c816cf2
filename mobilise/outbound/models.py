"""A receiver an office registered, and each event owed to it: the outbox, which is the truth of what is due."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import iso, utcnow
from ..extensions import db

EVENTS = ("action.created", "supporter.unsubscribed", "supporter.bounced", "supporter.complained")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON)
    # `whsec_` + base64 of random bytes: the receiver verifies each signature with it, so it is kept as given.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # The first failure since the last success: a receiver failing for WEBHOOK_DISABLE_AFTER is disabled.
    failing_since: Mapped[datetime | None]

    office = relationship("Office")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "created_at": iso(self.created_at),
            "enabled": self.enabled,
            "disabled_at": iso(self.disabled_at),
            "disabled_reason": self.disabled_reason,
            "failing_since": iso(self.failing_since),
        }


class WebhookDelivery(db.Model):
    """One event owed to one receiver. `message_id` is its `webhook-id`, the same at every try, so a receiver
    that got it twice (its 2xx lost on the way back) can tell."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    # The keyed digest of the supporter's address (tokens.address_digest): erasure finds their deliveries by it.
    email_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))  # what went wrong, short: never the payload
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None]

    endpoint = relationship("WebhookEndpoint")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "type": self.type,
            "payload": self.payload,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": iso(self.next_attempt_at),
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "created_at": iso(self.created_at),
            "delivered_at": iso(self.delivered_at),
        }
