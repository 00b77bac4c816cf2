"""Public sign-up with double opt-in: a request from a form, then a confirmation from the inbox.

The confirmation link names the `requested` step of the consent history, not the person, and
only confirms while that request is the supporter's latest step and younger than CONFIRM_WITHIN:
an unsubscribe or a newer request makes an older link void. Confirming takes a POST from the
page the link opens, so a mail scanner that follows the link confirms nothing. The email with the link
is composed and sent by a worker (sending/confirmation.py).
"""
import logging
from datetime import datetime, timedelta

from pydantic import Field, ValidationError

from ..clock import utcnow
from ..errors import Invalid, pydantic_details
from ..extensions import db
from ..jobs import enqueue
from ..offices.models import Office
from ..tokens import read_token
from ..validation import EmailAddress, Language, Strict
from .consent import record_change
from .models import ConsentChange, Supporter

log = logging.getLogger(__name__)

HONEYPOT = "website"  # hidden from people by the form's CSS; bots fill every field
CONFIRM_WITHIN = timedelta(days=14)
SOURCE = "sign-up form"


class SignupIn(Strict):
    email: EmailAddress
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    language: Language | None = None


def sign_up(office: Office, form: dict, address: str | None) -> bool:
    """Ask the person to confirm; True when a confirmation email is on its way.

    The page answers the same whatever happened, so the form never tells anyone who is on the list.
    """
    if form.get(HONEYPOT, "").strip():
        log.info("sign-up to %s dropped: the honeypot field was filled", office.code)
        return False
    try:
        fields = SignupIn.model_validate({k: v.strip() for k, v in form.items() if k in SignupIn.model_fields and v.strip()})
    except ValidationError as error:
        raise Invalid("invalid input", pydantic_details(error)) from None
    supporter = db.session.scalar(db.select(Supporter).where(Supporter.office_id == office.id, Supporter.email == fields.email))
    if supporter is None:
        supporter = Supporter(office_id=office.id, email=fields.email, status="pending")
        db.session.add(supporter)
    elif supporter.status not in ("pending", "unsubscribed"):
        return False  # already subscribed, or the address bounced or complained: no email
    for name in ("first_name", "last_name", "language"):
        if name in fields.model_fields_set:
            setattr(supporter, name, getattr(fields, name))
    db.session.flush()
    request = record_change(supporter, "requested", SOURCE, address=address)
    db.session.commit()
    enqueue_confirmation(request.id)
    return True


def enqueue_confirmation(request_id: int) -> None:
    enqueue("workers.supporters.send_confirmation", request_id, queue_name="send", job_id=f"confirm-{request_id}")


def unconfirmed_requests(since: datetime) -> list[int]:
    """Sign-up requests since `since` whose confirmation email is not done yet (the tick hands them out again)."""
    return list(db.session.scalars(
        db.select(ConsentChange.id).where(ConsentChange.change == "requested", ConsentChange.emailed_at.is_(None),
                                          ConsentChange.at >= since)
    ))


def confirmation_emailed(request_id: int, at: datetime) -> None:
    db.session.execute(db.update(ConsentChange).where(ConsentChange.id == request_id).values(emailed_at=at))
    db.session.commit()


def awaiting_confirmation(request_id: int) -> tuple[Supporter, Office] | None:
    """The supporter and office a confirmation email is still wanted for: the request is their latest step."""
    request = db.session.get(ConsentChange, request_id)
    supporter = db.session.get(Supporter, request.supporter_id) if request else None
    if supporter is None or supporter.email is None or _latest(supporter).id != request.id:
        return None
    return supporter, db.session.get(Office, supporter.office_id)


def _latest(supporter: Supporter) -> ConsentChange:
    return db.session.scalar(
        db.select(ConsentChange).where(ConsentChange.supporter_id == supporter.id)
        .order_by(ConsentChange.at.desc(), ConsentChange.id.desc()).limit(1)
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
    return {"state": state, "supporter": supporter, "office": db.session.get(Office, supporter.office_id), "request": request}


def confirm(token: str, address: str | None) -> dict | None:
    context = confirmation(token)
    if context is not None and context["state"] == "ready":
        record_change(context["supporter"], "confirmed", "confirmation link in the email", address=address)
        db.session.commit()
        context["state"] = "done"
    return context
