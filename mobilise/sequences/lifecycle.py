"""What happens to a case's emails when the case itself changes: news, more time, the end.

Each change writes its mailings as rows first; what is due now is then queued like any
other due mailing, so a lost job is re-made by the tick.
"""
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from ..cases.models import Case
from ..clock import utcnow
from ..errors import Conflict, Invalid
from ..extensions import db
from . import mailing_state
from ..validation import LONG_TEXT, LongText, Strict, parse
from .models import Drive, Mailing
from .service import plan_reminders


class UpdateIn(Strict):
    kind: Literal["update"]
    body: str = Field(min_length=1, max_length=LONG_TEXT)


class ExtensionIn(Strict):
    kind: Literal["deadline_extended"]
    deadline: date
    body: LongText | None = None


class ClosureIn(Strict):
    kind: Literal["closed"]
    outcome: Literal["good_news", "no_further_action"]
    body: LongText | None = None


class ChangeIn(Strict):
    change: Annotated[UpdateIn | ExtensionIn | ClosureIn, Field(discriminator="kind")]


CHANGES = {"update": UpdateIn, "deadline_extended": ExtensionIn, "closed": ClosureIn}


def apply_change(case: Case, data: dict, *, now: datetime | None = None) -> list[Mailing]:
    """Apply an update, extension or closure to `case`; returns the mailings it made."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in CHANGES:
        raise Invalid("invalid input", [{"field": "kind", "error": "must be update, deadline_extended or closed"}])
    change = parse(CHANGES[data["kind"]], data)  # by its kind, so that errors name the body's own fields
    now = now or utcnow()
    if case.status != "live":
        raise Conflict(f"case {case.id} is {case.status}: only a live case takes updates")
    if isinstance(change, UpdateIn):
        made = post_update(case, change.body, now)
    elif isinstance(change, ExtensionIn):
        made = extend_deadline(case, change.deadline, change.body, now)
    else:
        made = close_case(case, change.outcome, change.body, now)
    for mailing in made:
        if mailing.send_at <= now:
            mailing_state.queue_now(mailing.id, now)
    return made


def _drives(case: Case) -> list[Drive]:
    return list(db.session.scalars(db.select(Drive).where(Drive.case_id == case.id).order_by(Drive.id)))


def _new_mailing(drive: Drive, stage: str, audience: str, now: datetime, body: str | None) -> Mailing:
    mailing = Mailing(drive=drive, stage=stage, audience=audience, send_at=now, body=body)
    db.session.add(mailing)
    return mailing


def post_update(case: Case, body: str, now: datetime) -> list[Mailing]:
    """News on the case: an `update` to everyone, now, in every drive."""
    made = [_new_mailing(drive, "update", "all", now, body) for drive in _drives(case)]
    db.session.commit()
    return made


def extend_deadline(case: Case, deadline: date, body: str | None, now: datetime) -> list[Mailing]:
    """More time to act: drives that follow the case move with it, re-plan their reminders, and tell those who have not acted."""
    if deadline <= case.deadline:
        raise Invalid("invalid input", [{"field": "deadline", "error": f"must be after the current deadline, {case.deadline}"}])
    case.deadline = deadline
    made = []
    for drive in _drives(case):
        if drive.own_deadline:
            continue  # the office set its own deadline: it keeps it, and no extension email
        drive.deadline = deadline
        for mailing in drive.mailings:
            if mailing.stage == "reminder" and mailing.status == mailing_state.MailingStatus.PLANNED:
                mailing_state.cancel(mailing.id, "the deadline was extended", now, commit=False)
        made += plan_reminders(drive, now=now)
        made.append(_new_mailing(drive, "extension", "not_acted", now, body))
    db.session.commit()
    return made


def close_case(case: Case, outcome: str, body: str | None, now: datetime) -> list[Mailing]:
    """The end of the case: nothing planned goes out; with good news, those who acted hear that it helped."""
    case.status = "closed"
    case.outcome = outcome
    case.closed_at = now
    db.session.commit()
    waiting = db.session.scalars(
        db.select(Mailing).join(Drive).where(Drive.case_id == case.id, Mailing.status == "planned")
    ).all()
    for mailing in waiting:
        mailing_state.cancel(mailing.id, "the case is closed", now, commit=False)
    made = []
    if outcome == "good_news":
        made = [_new_mailing(drive, "outcome", "acted", now, body) for drive in _drives(case)]
    db.session.commit()
    return made
