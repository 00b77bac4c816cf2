"""A visitor of the public case page asks to act: the request, its throttle, and "keep me informed".

Anyone can type anyone's address, so a request changes nothing that counts: the action counts only once
the link sent to that address is followed (tracking/visitors.py). A visitor who ticks "keep me informed"
becomes a `pending` supporter at once, as a sign-up does, and the same confirming click is their opt-in;
nothing else adds anyone to a list. The answer is the same whatever happened, so the form never tells who
is on a list, and an address gets at most one confirmation email an hour across sign-ups and visitors'
actions (signup.confirmation_sent_lately).
"""

import logging
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..errors import Invalid
from ..extensions import db
from ..jobs import enqueue
from ..networks import network_of
from ..offices.models import Office
from ..tokens import address_digest
from ..validation import EmailAddress, Strict
from .consent import record_change
from .models import Supporter, VisitorAction
from .signup import CONFIRM_WITHIN, HONEYPOT, Name, _problems, confirmation_sent_lately

log = logging.getLogger(__name__)

SOURCE = "case page"
# The form's checkbox sends "yes"; an unticked box sends nothing.
TICKED = ("yes", "on", "true", "1")


class VisitorActionIn(Strict):
    email: EmailAddress
    first_name: Name = ""
    join: bool = False


def read_request(form: dict) -> VisitorActionIn:
    """The form's fields, checked, or Invalid naming each wrong one (the honeypot and unknown fields ignored)."""
    fields = {k: v.strip() for k, v in form.items() if k in ("email", "first_name") and v.strip()}
    fields["join"] = form.get("join", "").strip().lower() in TICKED
    try:
        return VisitorActionIn.model_validate(fields)
    except ValidationError as error:
        raise Invalid("invalid input", _problems(error)) from None


def ask_to_act(office: Office, case_id: int, form: dict, address: str | None, language: str | None) -> bool:
    """Store the request and queue its email; True when an email is on its way. Invalid for a bad field."""
    if form.get(HONEYPOT, "").strip():
        log.info("visitor action for %s dropped: the honeypot field was filled", office.code)
        return False
    fields = read_request(form)
    if confirmation_sent_lately(fields.email):
        log.info("visitor action for %s dropped: the address was sent a confirmation lately", office.code)
        return False
    supporter = db.session.scalar(
        db.select(Supporter).where(Supporter.office_id == office.id, Supporter.email == fields.email).with_for_update()
    )
    if supporter is not None and supporter.status in ("bounced", "complained"):
        return False  # the relay told us not to write to this address again
    if fields.join and not _wait_to_join(office, supporter, fields.email, address):
        return False
    request = VisitorAction(
        case_id=case_id,
        office_id=office.id,
        email=fields.email,
        email_digest=address_digest(fields.email),
        first_name=fields.first_name if fields.join else "",
        wants_to_join=fields.join,
        language=language,
        network=network_of(address),
    )
    db.session.add(request)
    db.session.commit()
    enqueue_visitor_email(request.id)
    return True


def _wait_to_join(office: Office, supporter: Supporter | None, email: str, address: str | None) -> bool:
    """A visitor who asked to join: `pending` (or as they were) with a `requested` step, until the link is followed.

    The request's email is the visitor action's own, so this step is marked emailed: the sign-up's tick must not
    send a second email for it. False when the same address is joining at this very moment (that request wins).
    """
    if supporter is None:
        supporter = Supporter(office_id=office.id, email=email, status="pending")
        db.session.add(supporter)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            return False
    if supporter.status in ("pending", "unsubscribed"):
        record_change(supporter, "requested", SOURCE, address=address).emailed_at = utcnow()
    return True


def enqueue_visitor_email(request_id: int) -> None:
    enqueue("workers.visitors.send_confirmation", request_id, queue_name="send", job_id=f"visitor-{request_id}")


def unemailed_requests(since: datetime) -> list[int]:
    """Requests since `since` whose email is not done yet (the tick hands them out again). One whose address is
    gone (erased while its email waited) has nothing to send: its job would find so every minute for 14 days."""
    return list(
        db.session.scalars(
            db.select(VisitorAction.id).where(
                VisitorAction.emailed_at.is_(None),
                VisitorAction.email.is_not(None),
                VisitorAction.requested_at >= since,
            )
        )
    )


def visitor_emailed(request_id: int, at: datetime) -> None:
    db.session.execute(db.update(VisitorAction).where(VisitorAction.id == request_id).values(emailed_at=at))
    db.session.commit()


def forget_addresses(at: datetime) -> int:
    """The address and name of every request that can no longer be confirmed, gone: they were kept for that only."""
    result = db.session.execute(
        db.update(VisitorAction)
        .where(VisitorAction.email.is_not(None), VisitorAction.requested_at < at - CONFIRM_WITHIN)
        .values(email=None, first_name="")
    )
    db.session.commit()
    return result.rowcount
