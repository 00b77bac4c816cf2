from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db


class AuditEntry(db.Model):
    """One act of staff (or of the command line), written in the same transaction as the act itself.

    It names its subject by id (a case, a drive, an import, a supporter's id) and never holds personal data:
    an erased supporter's entry must not keep what the erasure removed.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The account, while it exists; `actor` keeps its address as it was (or "command line").
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    # The office the act concerns, else the actor's own; none for an admin's act on no office.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    action: Mapped[str] = mapped_column(String(50), index=True)
    subject: Mapped[str | None] = mapped_column(String(320))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    network: Mapped[str | None] = mapped_column(String(64))

    office = relationship("Office")
