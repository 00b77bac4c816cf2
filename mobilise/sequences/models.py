from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import iso, utcnow
from ..extensions import db
from .mailing_state import MailingStatus

STAGES = ("launch", "update", "extension", "reminder", "outcome")
AUDIENCES = ("all", "not_acted", "acted")


class Drive(db.Model):
    """One office's email drive for one case."""

    __tablename__ = "drives"
    __table_args__ = (UniqueConstraint("case_id", "office_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    deadline: Mapped[date]
    # False while the drive follows the case's deadline (and so moves when it is extended).
    own_deadline: Mapped[bool] = mapped_column(default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Only supporters reading these languages (none: everyone); a supporter with no language reads the office's.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case = relationship("Case")
    office = relationship("Office")
    mailings: Mapped[list["Mailing"]] = relationship(back_populates="drive", order_by="Mailing.send_at, Mailing.id")


class Mailing(db.Model):
    """One email of a drive's sequence. Its audience is taken when it is sent."""

    __tablename__ = "mailings"
    __table_args__ = (Index("ix_mailings_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drive_id: Mapped[int] = mapped_column(ForeignKey("drives.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(16), default="all")
    send_at: Mapped[datetime]
    # Changed only by `mailing_state`'s transitions.
    status: Mapped[str] = mapped_column(String(16), default=MailingStatus.PLANNED)
    # Staff's words for an update, extension or outcome email, in the case's language, and translated.
    body: Mapped[str | None] = mapped_column(Text)
    body_translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # For a reminder: how many days before the deadline it was planned.
    days_before: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    # Set once the deliveries are written: a re-run of the job then only resumes the batches.
    audience_taken_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # A paused mailing says why: until `paused_until` when its relay is down or over its hourly limit (the
    # tick resumes it), or until staff resume it (no `paused_until`) after too many errors.
    pause_reason: Mapped[str | None] = mapped_column(Text)
    paused_until: Mapped[datetime | None]
    # Send jobs of this mailing that raised in a row, and the last error: past a limit it pauses for staff.
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    # What the guard rails had counted ({"attempted", "hard", "complaints"}) when they paused it, then when staff
    # resumed it: only what comes after counts towards pausing it again.
    guard_baseline: Mapped[dict | None] = mapped_column(JSON)

    drive: Mapped[Drive] = relationship(back_populates="mailings")

    def body_in(self, language: str, case_language: str) -> str | None:
        """The staff's words in `language`: the original in the case's own language, else its translation."""
        if not self.body or language == case_language:
            return self.body
        return (self.body_translations or {}).get(language)

    def readable_in(self, case_languages: set[str], case_language: str) -> set[str]:
        """The case's whole languages that this email's own words exist in too."""
        if not self.body:
            return case_languages
        return case_languages & ({case_language} | set(self.body_translations or {}))

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "office": self.drive.office.code,
            "stage": self.stage,
            "audience": self.audience,
            "send_at": iso(self.send_at),
            # The contract's four statuses: a paused mailing is still sending, and says why it waits.
            "status": MailingStatus.SENDING.value if self.status == MailingStatus.PAUSED else self.status,
            "paused": {"reason": self.pause_reason, "until": iso(self.paused_until)}
            if self.status == MailingStatus.PAUSED
            else None,
        }
