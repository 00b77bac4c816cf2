"""What happens to a case's emails when the case itself changes: news, more time, the end.

Each change writes its mailings as rows first; what is due now is then queued like any
other due mailing, so a lost job is re-made by the tick.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from ..audit.service import record
from ..cases.models import Case
from ..clock import utcnow
from ..errors import Conflict, Invalid
from ..extensions import db
from ..validation import LONG_TEXT, Language, LongText, Strict, parse
from . import mailing_state
from .models import Drive, Mailing
from .service import plan_reminders


class WordsIn(Strict):
    body: str = Field(min_length=1, max_length=LONG_TEXT)


class Change(Strict):
    """The staff's words (`body`) are in the case's language; `translations` has them in others:
    a supporter whose language lacks them reads the whole email in a language that has them."""

    body: LongText | None = None
    translations: dict[Language, WordsIn] = Field(default_factory=dict)

    def words(self) -> dict:
        return {"body": self.body, "body_translations": {code: words.body for code, words in self.translations.items()}}


class UpdateIn(Change):
    kind: Literal["update"]
    body: str = Field(min_length=1, max_length=LONG_TEXT)


class ExtensionIn(Change):
    kind: Literal["deadline_extended"]
    deadline: date


class ClosureIn(Change):
    kind: Literal["closed"]
    outcome: Literal["good_news", "no_further_action"]


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
    if change.translations.keys() & {case.language}:
        raise Invalid(
            "invalid input",
            [{"field": f"translations.{case.language}", "error": "is the case's own language: write it in body"}],
        )
    if change.translations and not change.body:
        raise Invalid(
            "invalid input",
            [{"field": "body", "error": "is needed in the case's own language when translations are given"}],
        )
    if isinstance(change, UpdateIn):
        made = post_update(case, change.words(), now)
    elif isinstance(change, ExtensionIn):
        made = extend_deadline(case, change.deadline, change.words(), now)
    else:
        made = close_case(case, change.outcome, change.words(), now)
    for mailing in made:
        if mailing.send_at <= now:
            mailing_state.queue_now(mailing.id, now)
    return made


def _drives(case: Case) -> list[Drive]:
    return list(db.session.scalars(db.select(Drive).where(Drive.case_id == case.id).order_by(Drive.id)))


def _new_mailing(drive: Drive, stage: str, audience: str, now: datetime, words: dict) -> Mailing:
    mailing = Mailing(drive=drive, stage=stage, audience=audience, send_at=now, **words)
    db.session.add(mailing)
    return mailing


def post_update(case: Case, words: dict, now: datetime) -> list[Mailing]:
    """News on the case: an `update` to everyone, now, in every drive."""
    made = [_new_mailing(drive, "update", "all", now, words) for drive in _drives(case)]
    record("case.updated", subject=f"case {case.id}", details={"reference": case.reference, "mailings": len(made)})
    db.session.commit()
    return made


def extend_deadline(case: Case, deadline: date, words: dict, now: datetime) -> list[Mailing]:
    """More time to act: drives that follow the case move with it, re-plan their reminders, and tell those who have not acted."""
    if deadline <= case.deadline:
        raise Invalid(
            "invalid input", [{"field": "deadline", "error": f"must be after the current deadline, {case.deadline}"}]
        )
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
        made.append(_new_mailing(drive, "extension", "not_acted", now, words))
    record(
        "case.deadline_extended",
        subject=f"case {case.id}",
        details={"reference": case.reference, "deadline": deadline.isoformat(), "mailings": len(made)},
    )
    db.session.commit()
    return made


def close_case(case: Case, outcome: str, words: dict, now: datetime) -> list[Mailing]:
    """The end of the case: nothing planned goes out; with good news, those who acted hear that it helped."""
    case.status = "closed"
    case.outcome = outcome
    case.closed_at = now
    record("case.closed", subject=f"case {case.id}", details={"reference": case.reference, "outcome": outcome})
    db.session.commit()
    waiting = db.session.scalars(
        db.select(Mailing).join(Drive).where(Drive.case_id == case.id, Mailing.status == "planned")
    ).all()
    for mailing in waiting:
        mailing_state.cancel(mailing.id, "the case is closed", now, commit=False)
    made = []
    if outcome == "good_news":
        made = [_new_mailing(drive, "outcome", "acted", now, words) for drive in _drives(case)]
    db.session.commit()
    return made
