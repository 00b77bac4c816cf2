from datetime import datetime

from sqlalchemy import JSON, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from .dkim_keys import SELECTOR_LENGTH, dns_record, record_name
from .themes import DEFAULT_THEMES

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
    # Where the relay does not sign: every email of the office is signed with this key (see sending/dkim.py).
    # Both or neither; the key is written, never read back out (to_dict shows its public half).
    dkim_selector: Mapped[str | None] = mapped_column(String(SELECTOR_LENGTH))
    dkim_private_key: Mapped[str | None] = mapped_column(Text)
    # The themes its preference page offers supporters to choose cases by; None: the standard list (themes.py).
    themes: Mapped[list[str] | None] = mapped_column(JSON)
    # Since when its emails link to the preference page (the migration that made the page, or the office's
    # birth): staff compare the unsubscribes before and after it.
    preferences_since: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def offered_themes(self) -> list[str]:
        return list(self.themes) if self.themes else list(DEFAULT_THEMES)

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
            "dkim": self.dkim(),
            "themes": self.offered_themes,
        }

    @property
    def sender_domain(self) -> str:
        return self.sender_email.rsplit("@", 1)[1]

    def dkim(self) -> dict | None:
        """What IT publishes for the office's DKIM key: the TXT record and where; None without a key."""
        if not (self.dkim_selector and self.dkim_private_key):
            return None
        return {
            "selector": self.dkim_selector,
            "name": record_name(self.dkim_selector, self.sender_domain),
            "public_key": dns_record(self.dkim_private_key),
        }
