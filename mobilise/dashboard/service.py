"""Counts for staff: per case, per office and per mailing, exact and in distinct supporters."""
from sqlalchemy import case as when
from sqlalchemy import distinct, func

from ..cases.models import Case
from ..clock import days_left
from ..extensions import db
from ..offices.models import Office
from ..sending.models import Delivery
from ..sequences.models import Drive, Mailing
from ..tracking.models import Action, Event

COUNTS = ("recipients", "sent", "failed", "bounced", "opened", "opened_human", "clicked", "acted", "unsubscribed")


def _zero() -> dict:
    return dict.fromkeys(COUNTS, 0)


def _delivery_counts(key):
    return (
        key,
        func.count(distinct(when((Delivery.status != "skipped", Delivery.supporter_id)))),
        func.sum(when((Delivery.status.in_(("sent", "bounced")), 1), else_=0)),
        func.sum(when((Delivery.status == "failed", 1), else_=0)),
        func.sum(when((Delivery.status == "bounced", 1), else_=0)),
    )


def _event_counts(key):
    supporter = Delivery.supporter_id
    return (
        key,
        func.count(distinct(when((Event.kind == "open", supporter)))),
        func.count(distinct(when(((Event.kind == "open") & ~Event.machine, supporter)))),
        # Link scanners click everything: `clicked` counts people only.
        func.count(distinct(when(((Event.kind == "click") & ~Event.machine, supporter)))),
        func.count(distinct(when((Event.kind == "unsubscribe", supporter)))),
    )


def _counts_by(case_id: int, office_id: int | None, key, action_key) -> dict:
    """Every count of `COUNTS`, grouped by `key` (an office code or a mailing id)."""
    scope = [Drive.case_id == case_id] + ([Drive.office_id == office_id] if office_id else [])
    counts: dict = {}

    def row_for(value):
        return counts.setdefault(value, _zero())

    def through_deliveries(columns, source):
        """`columns` over `source` rows, joined up through their delivery to the drive and office."""
        query = db.select(*columns).select_from(source)
        if source is not Delivery:
            query = query.join(Delivery, Delivery.id == source.delivery_id)
        return (
            query.join(Mailing, Mailing.id == Delivery.mailing_id)
            .join(Drive, Drive.id == Mailing.drive_id)
            .join(Office, Office.id == Drive.office_id)
            .where(*scope)
            .group_by(key)
        )

    for value, recipients, sent, failed, bounced in db.session.execute(through_deliveries(_delivery_counts(key), Delivery)):
        row_for(value).update(recipients=recipients, sent=sent or 0, failed=failed or 0, bounced=bounced or 0)

    events = through_deliveries(_event_counts(key), Event)
    for value, opened, opened_human, clicked, unsubscribed in db.session.execute(events):
        row_for(value).update(opened=opened, opened_human=opened_human, clicked=clicked, unsubscribed=unsubscribed)

    for value, acted in db.session.execute(action_key(scope)):
        row_for(value)["acted"] = acted
    return counts


def _actions_by_office(scope):
    return (
        db.select(Office.code, func.count(distinct(Action.supporter_id)))
        .select_from(Action)
        .join(Drive, (Drive.case_id == Action.case_id) & (Drive.office_id == Action.office_id))
        .join(Office, Office.id == Action.office_id)
        .where(*scope)
        .group_by(Office.code)
    )


def _actions_by_mailing(scope):
    return (
        db.select(Mailing.id, func.count(distinct(Action.supporter_id)))
        .select_from(Action)
        .join(Delivery, Delivery.id == Action.delivery_id)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .join(Drive, Drive.id == Mailing.drive_id)
        .where(*scope)
        .group_by(Mailing.id)
    )


def case_stats(case: Case, office: Office | None = None) -> dict:
    """The stats of the contract; an office sees its own part only, totals included."""
    office_id = office.id if office else None
    by_office = _counts_by(case.id, office_id, Office.code, _actions_by_office)
    by_mailing = _counts_by(case.id, office_id, Mailing.id, _actions_by_mailing)

    drives = db.session.scalars(
        db.select(Drive).where(Drive.case_id == case.id, *([Drive.office_id == office_id] if office_id else []))
    ).all()
    offices = {drive.office.code: by_office.get(drive.office.code, _zero()) for drive in drives}
    totals = _zero()
    for row in offices.values():  # a supporter belongs to one office, so office counts add up
        for name in COUNTS:
            totals[name] += row[name]

    mailings = []
    for drive in drives:
        for mailing in drive.mailings:
            mailings.append({**mailing.to_dict(), **by_mailing.get(mailing.id, _zero())})
    mailings.sort(key=lambda m: (m["send_at"], m["id"]))

    day = func.date(Action.created_at)
    per_day = db.session.execute(
        db.select(day, Office.code, func.count(distinct(Action.supporter_id)))
        .join(Office, Office.id == Action.office_id)
        .where(Action.case_id == case.id, *([Action.office_id == office_id] if office_id else []))
        .group_by(day, Office.code)
        .order_by(day, Office.code)
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


