"""A case's life as planned mailings: launch now, reminders before the deadline, and the tick that sends what is due."""

from datetime import date, datetime, timedelta

from pydantic import Field

from ..audit.service import record
from ..cases.models import Action, Case
from ..clock import deadline_end, local_to_utc, to_naive_utc, utcnow
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..languages import reading_language
from ..offices.models import Office
from ..sql import without_jit
from ..supporters.models import Supporter, SupporterTag
from ..validation import Language, Strict, parse, text
from .models import Drive, Mailing
from .preference_rules import REASONS, is_last_reminder, left_out_reasons, rules_for


class LaunchIn(Strict):
    office: str = Field(pattern=r"^[A-Za-z]{2}$")
    deadline: date | None = None
    tags: list[text(100)] = Field(default_factory=list, max_length=200)
    languages: list[Language] = Field(default_factory=list)
    send_at: datetime | None = None


def launch(case: Case, office: Office, data: dict, *, now: datetime | None = None) -> Drive:
    """Start `office`'s drive for `case`: a launch mailing (now, or at `send_at`) and its reminders."""
    fields = parse(LaunchIn, data)
    now = now or utcnow()
    if case.status != "live":
        raise Conflict(f"case {case.id} is {case.status}: only a live case can be launched")
    if db.session.scalar(db.select(Drive.id).where(Drive.case_id == case.id, Drive.office_id == office.id)):
        raise Conflict(f"case {case.id} is already launched for {office.code}")
    deadline = fields.deadline or case.deadline
    if now >= deadline_end(deadline, office.timezone):
        raise Invalid("invalid input", [{"field": "deadline", "error": "has already passed"}])
    send_at = to_naive_utc(fields.send_at) if fields.send_at else now
    if send_at >= deadline_end(deadline, office.timezone):
        raise Invalid("invalid input", [{"field": "send_at", "error": "is after the deadline"}])

    drive = Drive(
        case_id=case.id,
        office_id=office.id,
        deadline=deadline,
        own_deadline=fields.deadline is not None and fields.deadline != case.deadline,
        tags=sorted({t.strip() for t in fields.tags if t.strip()}),
        languages=sorted(set(fields.languages)),
    )
    drive.office = office
    db.session.add(drive)
    db.session.add(Mailing(drive=drive, stage="launch", audience="all", send_at=max(send_at, now)))
    plan_reminders(drive, now=now)
    db.session.flush()  # the drive's id, for its audit entry
    record(
        "drive.launched",
        subject=f"drive {drive.id}",
        office=office,
        details={
            "case": case.id,
            "reference": case.reference,
            "deadline": deadline.isoformat(),
            "tags": drive.tags,
            "languages": drive.languages,
        },
    )
    db.session.commit()
    return drive


def plan_reminders(drive: Drive, *, now: datetime) -> list[Mailing]:
    """One `not_acted` reminder per reminder day, at the office's local send hour; none in the past."""
    office = drive.office
    planned = []
    for days in office.reminder_days:
        send_at = local_to_utc(drive.deadline - timedelta(days=days), office.send_hour, office.timezone)
        if send_at <= now:
            continue
        mailing = Mailing(drive=drive, stage="reminder", audience="not_acted", send_at=send_at, days_before=days)
        db.session.add(mailing)
        planned.append(mailing)
    return planned


def drive_to_dict(drive: Drive, audience: dict | None = None) -> dict:
    return ({"audience": audience} if audience is not None else {}) | {
        "id": drive.id,
        "case": drive.case_id,
        "office": drive.office.code,
        "deadline": drive.deadline.isoformat(),
        "tags": drive.tags,
        "languages": drive.languages or [],
        "mailings": [m.to_dict() for m in drive.mailings],
    }


def schedule(case: Case, office: Office | None) -> list[dict]:
    query = db.select(Mailing).join(Drive).where(Drive.case_id == case.id).order_by(Mailing.send_at, Mailing.id)
    if office is not None:
        query = query.where(Drive.office_id == office.id)
    return [m.to_dict() for m in db.session.scalars(query)]


def get_mailing(mailing_id: int) -> Mailing:
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None:
        raise NotFound(f"no mailing {mailing_id}")
    return mailing


def why_not_send(mailing: Mailing, now: datetime) -> str | None:
    """The reason this mailing must not go out at `now`, or None. Checked at send time, not only at planning."""
    drive = mailing.drive
    case = drive.case
    if mailing.status == "cancelled":
        return "cancelled"
    if case.status == "closed" and mailing.stage != "outcome":
        return "the case is closed"
    if mailing.audience == "not_acted" and now >= deadline_end(drive.deadline, drive.office.timezone):
        return "the drive's deadline has passed"
    return None


def due_mailings(at: datetime) -> list[int]:
    return list(
        db.session.scalars(
            db.select(Mailing.id).where(Mailing.status == "planned", Mailing.send_at <= at).order_by(Mailing.send_at)
        )
    )


def audience_query(mailing: Mailing, *, now: datetime | None = None):
    """The supporter ids a mailing goes to, taken when it is sent: subscribed, in the drive's tags, by audience
    rule, less those whose preferences leave them out of this stage of this case."""
    rules = rules_for(mailing.drive, mailing.stage, last_reminder=is_last_reminder(mailing), now=now or utcnow())
    return audience_of(mailing.drive, mailing.audience).where(*(~left_out for _, left_out in rules))


def audience_size(drive: Drive, audience: str, stage: str = "launch") -> int:
    """How many people a mailing to `audience` would reach now (the drive need not be saved)."""
    query = audience_of(drive, audience)
    without_jit()
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    return total - sum(count for _, count in _left_out(query, drive, stage))


def _left_out(query, drive: Drive, stage: str, by=None) -> list:
    """(`by`'s value, reason, count) of those in the audience `query` whom their preferences leave out of `stage`;
    (reason, count) without `by`."""
    reasons = left_out_reasons(drive, stage, last_reminder=False, now=utcnow())
    if reasons is None:
        return []
    # Each of those who chose is looked up in the audience by id, its primary key: joined, the planner may read
    # the whole list for a few thousand of them.
    found = (
        query.where(Supporter.id == reasons.c.supporter_id)
        .with_only_columns(Supporter.id if by is None else by)
        .scalar_subquery()
    )
    looked_up = db.select(reasons.c.reason, found.label("found")).subquery()
    grouped = [looked_up.c.reason] if by is None else [looked_up.c.found, looked_up.c.reason]
    return db.session.execute(
        db.select(*grouped, db.func.count()).where(looked_up.c.found.is_not(None)).group_by(*grouped)
    ).all()


def reading_audience(case: Case, office: Office, *, tags=(), languages=()) -> dict:
    """Who a launch would reach now, by the language each will read, and those whose own language the case
    lacks (they read the office's, else English), by their own; and those their preferences leave out, by the
    first reason that holds (`left_out`): staff see it before anything is sent."""
    drive = Drive(deadline=case.deadline, tags=sorted(set(tags)), languages=sorted(set(languages)), own_deadline=False)
    drive.case, drive.office = case, office
    own_language = db.func.coalesce(Supporter.language, office.language)
    audience = audience_of(drive, "all")
    without_jit()
    # Counted over the audience's own rows (no second pass over the list to find them again by id).
    counted = dict(
        db.session.execute(audience.with_only_columns(own_language, db.func.count()).group_by(own_language)).all()
    )
    left_out: dict[str, int] = {}
    for own, why, count in _left_out(audience, drive, "launch", by=own_language):
        left_out[why] = left_out.get(why, 0) + count
        counted[own] -= count
    readable = case.languages()
    reads, falls_back = {}, {}
    for own, count in counted.items():
        if not count:
            continue
        read = reading_language([own, office.language], readable, case.language, stage="launch")
        reads[read] = reads.get(read, 0) + count
        if read != own:
            falls_back[own] = falls_back.get(own, 0) + count
    return {
        "total": sum(reads.values()),
        "languages": dict(sorted(reads.items())),
        "fallback": dict(sorted(falls_back.items())),
        "left_out": {name: left_out[name] for name in REASONS if name in left_out},
    }


def audience_of(drive: Drive, audience: str):
    office_id = drive.office_id if drive.office_id is not None else drive.office.id
    case_id = drive.case_id if drive.case_id is not None else drive.case.id
    query = db.select(Supporter.id).where(Supporter.office_id == office_id, Supporter.status == "subscribed")
    if drive.tags:
        query = query.where(
            db.select(SupporterTag.supporter_id)
            .where(SupporterTag.supporter_id == Supporter.id, SupporterTag.tag.in_(drive.tags))
            .exists()
        )
    if drive.languages:
        reads = Supporter.language.in_(drive.languages)
        if drive.office.language in drive.languages:  # no language of their own: they read the office's
            reads = reads | Supporter.language.is_(None)
        query = query.where(reads)
    acted = db.select(Action.id).where(Action.supporter_id == Supporter.id, Action.case_id == case_id).exists()
    if audience == "not_acted":
        query = query.where(~acted)
    elif audience == "acted":
        query = query.where(acted)
    return query
