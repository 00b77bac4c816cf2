"""The sign-up confirmation email: the link that turns a request (supporters/signup.py) into consent.

It goes like every other email: rendered by the one renderer, written by the same message class, through
the office's relay and within its limits, by the messenger. Whether it is done is a row
(`ConsentChange.emailed_at`): a relay that is down or over its limit leaves it for the tick to hand out
again, so it needs neither RQ's retries nor its scheduler.
"""

import logging
import time
from email.utils import formataddr, make_msgid

from ..clock import utcnow
from ..languages import UI_LANGUAGES, reading_language
from ..supporters.signup import awaiting_confirmation, confirmation_emailed
from ..tokens import make_token
from .composer import public_url
from .dkim import signer_for
from .message import OutgoingEmail, Unsendable
from .messenger import RelayDown, open_session
from .relays import relay_for
from .render import render

log = logging.getLogger(__name__)


def send_confirmation(request_id: int) -> str:
    """The worker's side: the email with the confirmation link, in the person's language."""
    waiting = awaiting_confirmation(request_id)
    if waiting is None:
        confirmation_emailed(request_id, utcnow())  # nothing to send any more
        return "no longer wanted"
    supporter, office, language_asked = waiting
    language = reading_language(
        [language_asked, supporter.language, office.language], set(UI_LANGUAGES), "en", stage="confirm"
    )
    # Nothing the requester typed but the address goes into the email: anyone may fill in the form, and
    # a "name" such as "your account is suspended, verify at http://..." must not be sent in the office's name.
    context = {"office": office, "confirm_url": public_url(f"/confirm/{make_token('confirm', request_id)}")}
    rendered = render("confirm", language, context)
    sender = formataddr((office.sender_name or office.name, office.sender_email))
    message = OutgoingEmail(
        subject=rendered.subject,
        sender=sender,
        recipient=supporter.email,
        text=rendered.text,
        html=rendered.html,
        message_id=make_msgid("confirm", domain=office.sender_domain),
        reply_to=office.reply_to,
        signer=signer_for(office),
    )
    return send_and_mark(
        office.code, message, lambda: confirmation_emailed(request_id, utcnow()), f"sign-up request {request_id}"
    )


def send_and_mark(office_code: str, message: OutgoingEmail, mark_emailed, what: str) -> str:
    """`send_alone`, then the row marked done (`mark_emailed()`) unless the tick must hand the email out again:
    the job's answer ("sent", "failed", or why it waits)."""
    outcome = send_alone(office_code, message)
    if outcome[0] == "wait":
        return outcome[1]
    mark_emailed()
    if outcome[0] != "sent":
        # The reply's code only: a relay's words can quote the address.
        log.warning("%s: the confirmation email was refused (%s)", what, (outcome[1] or "")[:3])
    return outcome[0]


def send_alone(office_code: str, message: OutgoingEmail) -> tuple[str, str | None]:
    """One email on its own through the office's relay, within its limits: ("sent" | "failed", the reply), or
    ("wait", why) when the relay is down, over its limit or deferred it, for the tick to hand it out again."""
    relay = relay_for(office_code)
    if relay.down_until():
        return "wait", "relay down: the tick tries again"
    granted, wait, _ = relay.reserve(1)
    if not granted:
        return "wait", "relay over its hourly limit: the tick tries again"
    time.sleep(wait)
    try:
        with open_session(relay) as session:
            outcome = session.deliver(message)
    except RelayDown as error:
        relay.mark_down(str(error))
        return "wait", "relay down: the tick tries again"
    except Unsendable as error:
        return "failed", str(error)
    if outcome[0] == "deferred":
        return "wait", f"deferred ({outcome[1]}): the tick tries again"
    return outcome
