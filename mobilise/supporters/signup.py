"""Public sign-up with double opt-in: a request from a form, then a confirmation from the inbox.

The confirmation link names the `requested` step of the consent history, not the person, and
only confirms while that request is the supporter's latest step and younger than CONFIRM_WITHIN:
an unsubscribe or a newer request makes an older link void. Confirming takes a POST from the
page the link opens, so a mail scanner that follows the link confirms nothing. The email with the link
is composed and sent by a worker (sending/confirmation.py).

Anyone can fill in the form with anyone's address, so a request changes nothing about the person: the
name and language it asks for wait with the request (`ConsentChange.profile`) and are applied only when
the link is followed, and an address is sent at most one confirmation an hour, whoever asks from wherever.
"""

import logging
import unicodedata
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..errors import Invalid
from ..extensions import db
from ..jobs import enqueue
from ..offices.models import Office
from ..tokens import address_digest, read_token
from ..validation import EmailAddress, Language, Strict
from .consent import record_change
from .models import ConsentChange, Supporter, VisitorAction

log = logging.getLogger(__name__)

HONEYPOT = "website"  # hidden from people by the form's CSS; bots fill every field
CONFIRM_WITHIN = timedelta(days=14)
CONFIRM_EVERY = timedelta(hours=1)  # at most one confirmation email per address in this time, whatever the network
SOURCE = "sign-up form"
PROFILE = ("first_name", "last_name", "language")  # what a request may ask to set, once confirmed


def _printable(value: str) -> str:
    # Controls (NUL among them) and invisible format characters: no name needs them, and some databases refuse NUL.
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
        raise PydanticCustomError("bad_characters", "holds characters that cannot be used")
    return value


Name = Annotated[str, Field(max_length=200), AfterValidator(_printable)]  # as long as the column


class SignupIn(Strict):
    email: EmailAddress
    first_name: Name = ""
    last_name: Name = ""
    language: Language | None = None


def _problems(error: ValidationError) -> list[dict]:
    """Each wrong field with what is wrong (`invalid`, `too_long` with its `max`, `bad_characters`), for the page to word."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        problem = {"field": str(item["loc"][0]) if item["loc"] else None, "error": "invalid"}
        if item["type"] == "string_too_long":
            problem.update(error="too_long", max=item["ctx"]["max_length"])
        elif item["type"] == "bad_characters":
            problem["error"] = "bad_characters"
        problems.append(problem)
    return problems


def read_signup(form: dict) -> SignupIn:
    """The form's fields, checked, or Invalid naming each wrong one."""
    try:
        return SignupIn.model_validate(
            {k: v.strip() for k, v in form.items() if k in SignupIn.model_fields and v.strip()}
        )
    except ValidationError as error:
        raise Invalid("invalid input", _problems(error)) from None


def sign_up(office: Office, form: dict, address: str | None) -> bool:
    """Ask the person to confirm; True when a confirmation email is on its way.

    The page answers the same whatever happened, so the form never tells anyone who is on the list.
    """
    if form.get(HONEYPOT, "").strip():
        log.info("sign-up to %s dropped: the honeypot field was filled", office.code)
        return False
    fields = read_signup(form)
    if confirmation_sent_lately(fields.email):
        log.info("sign-up to %s dropped: the address was sent a confirmation within %s", office.code, CONFIRM_EVERY)
        return False
    supporter = db.session.scalar(
        db.select(Supporter).where(Supporter.office_id == office.id, Supporter.email == fields.email).with_for_update()
    )
    if supporter is None:
        supporter = Supporter(office_id=office.id, email=fields.email, status="pending")
        db.session.add(supporter)
    elif supporter.status not in ("pending", "unsubscribed"):
        return False  # already subscribed, or the address bounced or complained: no email
    try:
        db.session.flush()
    except IntegrityError:  # the same address, signing up at the same moment: that request's email is enough
        db.session.rollback()
        return False
    request = record_change(supporter, "requested", SOURCE, address=address)
    request.profile = fields.model_dump(include=set(PROFILE), exclude_unset=True) or None
    db.session.commit()
    enqueue_confirmation(request.id)
    return True


def confirmation_sent_lately(email: str) -> bool:
    """Whether this address asked (and so was sent, or is being sent, a confirmation) within CONFIRM_EVERY, at any
    office, by signing up or by acting from a case page (supporters/visitors.py).

    The database keeps the requests, so the limit holds whichever network the requests come from and
    needs no Redis. `office_id IN (every office)` lets the (office_id, email) index find the address:
    there is no index on the address alone. A visitor's request is found by its address's keyed digest.
    """
    since = utcnow() - CONFIRM_EVERY
    acted = db.session.scalar(
        db.select(VisitorAction.id)
        .where(VisitorAction.email_digest == address_digest(email), VisitorAction.requested_at >= since)
        .limit(1)
    )
    if acted is not None:
        return True
    asked = db.session.scalar(
        db.select(ConsentChange.id)
        .join(Supporter, Supporter.id == ConsentChange.supporter_id)
        .where(
            Supporter.office_id.in_(db.select(Office.id)),
            Supporter.email == email,
            ConsentChange.change == "requested",
            ConsentChange.at >= since,
        )
        .limit(1)
    )
    return asked is not None


def enqueue_confirmation(request_id: int) -> None:
    enqueue("workers.supporters.send_confirmation", request_id, queue_name="send", job_id=f"confirm-{request_id}")


def unconfirmed_requests(since: datetime) -> list[int]:
    """Sign-up requests since `since` whose confirmation email is not done yet (the tick hands them out again)."""
    return list(
        db.session.scalars(
            db.select(ConsentChange.id).where(
                ConsentChange.change == "requested", ConsentChange.emailed_at.is_(None), ConsentChange.at >= since
            )
        )
    )


def confirmation_emailed(request_id: int, at: datetime) -> None:
    db.session.execute(db.update(ConsentChange).where(ConsentChange.id == request_id).values(emailed_at=at))
    db.session.commit()


def awaiting_confirmation(request_id: int) -> tuple[Supporter, Office, str | None] | None:
    """The supporter, office and language asked for of a confirmation email still wanted: the request is their latest step."""
    request = db.session.get(ConsentChange, request_id)
    supporter = db.session.get(Supporter, request.supporter_id) if request else None
    if supporter is None or supporter.email is None or _latest(supporter).id != request.id:
        return None
    return supporter, db.session.get(Office, supporter.office_id), (request.profile or {}).get("language")


def _latest(supporter: Supporter) -> ConsentChange:
    return db.session.scalar(
        db.select(ConsentChange)
        .where(ConsentChange.supporter_id == supporter.id)
        .order_by(ConsentChange.at.desc(), ConsentChange.id.desc())
        .limit(1)
    )


def confirmation(token: str) -> dict | None:
    """What the confirmation page shows: `ready` to confirm, `done`, or `expired`; None for a bad token."""
    ids = read_token("confirm", token)
    request = db.session.get(ConsentChange, ids[0]) if ids else None
    if request is None or request.change != "requested":
        return None
    supporter = db.session.get(Supporter, request.supporter_id)
    if supporter is None or supporter.erased_at is not None:
        return None
    latest = _latest(supporter)
    if latest.id == request.id:
        state = "ready" if utcnow() - request.at <= CONFIRM_WITHIN else "expired"
    elif latest.change == "confirmed" and latest.id > request.id and supporter.status == "subscribed":
        state = "done"
    else:
        state = "expired"
    language = (request.profile or {}).get("language") or supporter.language
    return {
        "state": state,
        "supporter": supporter,
        "office": db.session.get(Office, supporter.office_id),
        "request": request,
        "language": language,
    }


def confirm(token: str, address: str | None) -> dict | None:
    """Confirm the request: only now does the person's name and language become what the request asked."""
    context = confirmation(token)
    if context is not None and context["state"] == "ready":
        supporter = context["supporter"]
        for name, value in (context["request"].profile or {}).items():
            if name in PROFILE:
                setattr(supporter, name, value)
        record_change(supporter, "confirmed", "confirmation link in the email", address=address)
        db.session.commit()
        context["state"] = "done"
    return context
