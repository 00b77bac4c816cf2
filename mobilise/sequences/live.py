"""The cases a visitor can still act on: live, with a drive whose deadline has not passed in its office's timezone."""

from datetime import timedelta

from ..cases.models import Case
from ..clock import is_open, utcnow
from ..extensions import db
from ..offices.models import Office
from .models import Drive


def live_drives(office: Office | None = None, *, limit: int = 5, prefer_language: str | None = None) -> list[Drive]:
    """At most `limit` open drives, the newest cases first: the office's own, or one per case across every office
    (the drive of an office writing in `prefer_language` when the case has several), for links to public case pages."""
    # A day's margin in SQL, the exact end of the last day in each office's timezone below.
    query = (
        db.select(Drive)
        .join(Case, Case.id == Drive.case_id)
        .join(Office, Office.id == Drive.office_id)
        .where(Case.status == "live", Drive.deadline >= (utcnow() - timedelta(days=1)).date())
        .order_by(Case.created_at.desc(), Case.id.desc(), Drive.id)
    )
    if office is not None:
        query = query.where(Drive.office_id == office.id)
    chosen: dict[int, Drive] = {}
    for drive in db.session.scalars(query.limit(limit * 10)):
        if not is_open(drive.deadline, drive.office.timezone):
            continue
        kept = chosen.get(drive.case_id)
        if (
            kept is None
            and len(chosen) < limit
            or kept is not None
            and prefer_language
            and drive.office.language == prefer_language != kept.office.language
        ):
            chosen[drive.case_id] = drive
    return list(chosen.values())
