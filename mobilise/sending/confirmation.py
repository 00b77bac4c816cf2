"""The sign-up confirmation email: the link that turns a request (supporters/signup.py) into consent."""
import smtplib
from email.utils import formataddr, make_msgid

from ..extensions import mail
from ..languages import UI_LANGUAGES
from ..supporters.signup import awaiting_confirmation
from ..tokens import make_token
from .composer import public_url
from .message import OutgoingEmail
from .render import choose_language, render


def send_confirmation(request_id: int) -> str:
    """The worker's side: the email with the confirmation link, in the person's language."""
    waiting = awaiting_confirmation(request_id)
    if waiting is None:
        return "no longer wanted"
    supporter, office = waiting
    language = choose_language("confirm", [supporter.language, office.language], set(UI_LANGUAGES))
    context = {
        "office": office,
        "confirm_url": public_url(f"/confirm/{make_token('confirm', request_id)}"),
        "name_suffix": f" {supporter.first_name}" if supporter.first_name else "",
    }
    rendered = render("confirm", language, context)
    sender = formataddr((office.sender_name or office.name, office.sender_email))
    message = OutgoingEmail(
        subject=rendered.subject, sender=sender, recipient=supporter.email, text=rendered.text, html=rendered.html,
        message_id=make_msgid("confirm", domain=office.sender_email.rsplit("@", 1)[1]), reply_to=office.reply_to,
    )
    try:
        mail.send(message)
    except smtplib.SMTPRecipientsRefused:
        return "refused by the relay"
    return "sent"  # a relay that is down raises: RQ tries again later
