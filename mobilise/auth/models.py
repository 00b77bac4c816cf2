from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db


class Staff(UserMixin, db.Model):
    """A staff account: an admin reaches every office; others their own, as far as their role allows (see roles)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    # "admin", or an office role: "manager", "campaigner", "viewer" (see roles.PERMISSIONS).
    role: Mapped[str] = mapped_column(String(20), default="manager", server_default="manager")
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A session cookie is signed, not stored: it stays valid until this number moves on, at sign-out
    # and at a password change, which ends every session made before.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    office = relationship("Office")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the account and the version of its sessions."""
        return f"{self.id}:{self.session_version}"


class ApiToken(db.Model):
    """A bearer token, kept only as its SHA-256: it is shown once, when made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    staff = relationship("Staff")
