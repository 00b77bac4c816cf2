"""The rows of what supporters chose on their preference page (supporters/preferences.py reads and writes them).

Nobody has a row until they first save the page: no row is every case, every email, no pause.
"""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class Preferences(db.Model):
    __tablename__ = "preferences"

    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id", ondelete="CASCADE"), primary_key=True)
    # all: every email of a case; launch_and_last: its launch and its last reminder only.
    frequency: Mapped[str] = mapped_column(String(16), default="all")
    # Nothing is sent to them before this day (the office's local date); mail starts again on it.
    pause_until: Mapped[date | None] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class PreferenceChoice(db.Model):
    """One region or theme a supporter chose to get cases of."""

    __tablename__ = "preference_choices"

    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # region, theme
    value: Mapped[str] = mapped_column(String(50), primary_key=True)
