from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

LOGO_URL_LENGTH = 2000


class Office(db.Model):
    """A country office (section): it owns its supporters and runs its own drives."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64))
    sender_email: Mapped[str] = mapped_column(String(320))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    postal_address: Mapped[str] = mapped_column(Text, default="")
    send_hour: Mapped[int] = mapped_column(default=10)
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [7, 2])
    logo_url: Mapped[str | None] = mapped_column(String(LOGO_URL_LENGTH))  # shown atop its emails; none by default
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "language": self.language,
            "timezone": self.timezone,
            "sender": self.sender_email,
            "sender_name": self.sender_name,
            "reply_to": self.reply_to,
            "address": self.postal_address,
            "send_hour": self.send_hour,
            "reminder_days": list(self.reminder_days),
            "logo_url": self.logo_url,
        }
