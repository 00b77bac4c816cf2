"""Counts for staff: per case, per office and per mailing, in distinct supporters.

Read from the counters the writers keep (mobilise/counts): a handful of small queries however many
deliveries and events a case has.
"""

from ..cases.models import Case
from ..clock import days_left
from ..counts.models import COUNTS, ActionDay, DriveCounts, MailingCounts
from ..extensions import db
from ..offices.models import Office
from ..sequences.models import Drive, Mailing


def _zero() -> dict:
    return dict.fromkeys(COUNTS, 0)


def case_stats(case: Case, office: Office | None = None) -> dict:
    """The stats of the contract; an office sees its own part only, totals included."""
    scope = [Drive.case_id == case.id] + ([Drive.office_id == office.id] if office else [])
    drives = db.session.scalars(db.select(Drive).where(*scope).order_by(Drive.id)).all()
    by_drive = {
        row.drive_id: row.as_dict()
        for row in db.session.scalars(
            db.select(DriveCounts).join(Drive, Drive.id == DriveCounts.drive_id).where(*scope)
        )
    }
    by_mailing = {
        row.mailing_id: row.as_dict()
        for row in db.session.scalars(
            db.select(MailingCounts)
            .join(Mailing, Mailing.id == MailingCounts.mailing_id)
            .join(Drive, Drive.id == Mailing.drive_id)
            .where(*scope)
        )
    }
    offices = {drive.office.code: by_drive.get(drive.id, _zero()) for drive in drives}
    totals = _zero()
    for row in offices.values():  # a supporter belongs to one office, so office counts add up
        for name in COUNTS:
            totals[name] += row[name]

    mailings = []
    for drive in drives:
        for mailing in drive.mailings:
            mailings.append({**mailing.to_dict(), **by_mailing.get(mailing.id, _zero())})
    mailings.sort(key=lambda m: (m["send_at"], m["id"]))

    per_day = db.session.execute(
        db.select(ActionDay.day, Office.code, ActionDay.actions)
        .join(Drive, Drive.id == ActionDay.drive_id)
        .join(Office, Office.id == Drive.office_id)
        .where(*scope)
        .order_by(ActionDay.day, Office.code)
    )
    deadline = drives[0].deadline if office and drives else case.deadline
    timezone = office.timezone if office else "UTC"
    return {
        "case": case.id,
        "deadline": deadline.isoformat(),
        "days_left": days_left(deadline, timezone),
        "totals": totals,
        "offices": offices,
        "mailings": mailings,
        "actions_by_day": [{"date": str(d), "office": code, "actions": n} for d, code, n in per_day],
    }
