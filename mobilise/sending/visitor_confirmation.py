"""The email that asks a visitor of the public case page to confirm their action (supporters/visitors.py).

Sent as the sign-up confirmation is (confirmation.py): rendered by the one renderer, through the office's relay
within its limits, and done when `VisitorAction.emailed_at` says so, so a relay that is down only delays it
until the tick hands it out again. It carries nothing the visitor typed but the address.
"""

from email.utils import formataddr

from ..cases.models import Case
from ..clock import utcnow
from ..extensions import db
from ..languages import has_templates, reading_language
from ..offices.models import Office
from ..supporters.models import VisitorAction
from ..supporters.visitors import visitor_emailed
from ..tokens import make_token
from .composer import public_url
from .confirmation import send_and_mark
from .dkim import signer_for
from .message import OutgoingEmail
from .render import render

STAGE = "visitor_action"


def send_visitor_confirmation(request_id: int) -> str:
    request = db.session.get(VisitorAction, request_id)
    if request is None or request.email is None or request.confirmed_at is not None or request.emailed_at is not None:
        return "no longer wanted"
    case, office = db.session.get(Case, request.case_id), db.session.get(Office, request.office_id)
    # One language for the case's words and ours: the page's, else the office's, each when both have it.
    language = reading_language([request.language, office.language], case.languages(), case.language, stage=STAGE)
    if not has_templates(STAGE, language):
        language = "en"
    context = {
        "office": office,
        "case": case,
        "title": case.content(language)["title"],
        "join": request.wants_to_join,
        # The office in the link too (not personal): a link cut or mangled on its way leads to the office's cases.
        "confirm_url": public_url(
            f"/cases/{case.slug}/actions/{make_token('visitor', request.id)}?office={office.code}"
        ),
    }
    rendered = render(STAGE, language, context)
    message = OutgoingEmail(
        subject=rendered.subject,
        sender=formataddr((office.sender_name or office.name, office.sender_email)),
        recipient=request.email,
        text=rendered.text,
        html=rendered.html,
        reply_to=office.reply_to,
        message_id=f"<visitor-action.{request.id}@{office.sender_domain}>",  # the same if a killed worker's email is sent again
        signer=signer_for(office),
    )
    return send_and_mark(
        office.code, message, lambda: visitor_emailed(request_id, utcnow()), f"visitor action {request_id}"
    )
