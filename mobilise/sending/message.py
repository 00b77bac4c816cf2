"""The one place that turns a rendered email into bytes with the contract's headers."""
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr
from datetime import timezone

from flask_mail import Message

from ..clock import utcnow

# Python's folder RFC 2047-encodes a header word longer than a line (a long URL), and
# mailbox providers then ignore List-Unsubscribe. These headers are ASCII by construction,
# so they are written as they are, folded only between their comma-separated URIs.
VERBATIM_HEADERS = {"list-unsubscribe", "list-unsubscribe-post"}


class MailPolicy(EmailPolicy):
    def _verbatim(self, name: str, value) -> str:
        parts = [part.strip() for part in str(value).split(",")]
        line = f"{name}: {', '.join(parts)}"
        if len(line) > self.max_line_length:
            line = f"{name}: " + f",{self.linesep} ".join(parts)
        return line + self.linesep

    def fold(self, name, value):
        if name.lower() in VERBATIM_HEADERS:
            return self._verbatim(name, value)
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() in VERBATIM_HEADERS:
            return self._verbatim(name, value).encode("ascii")
        return super().fold_binary(name, value)


POLICY = MailPolicy(linesep="\r\n")


class OutgoingEmail(Message):
    """A Flask-Mail message whose bytes are a top-level multipart/alternative built by `POLICY`."""

    def __init__(self, *, subject, sender, recipient, text, html, message_id, reply_to=None, headers=None):
        super().__init__(
            subject=subject, recipients=[recipient], body=text, html=html,
            sender=sender, reply_to=reply_to, extra_headers=headers or {},
        )
        self.msgId = message_id

    def _message(self) -> EmailMessage:
        msg = EmailMessage(policy=POLICY)
        msg["Subject"] = self.subject
        msg["From"] = formataddr(self.sender) if isinstance(self.sender, tuple) else self.sender
        msg["To"] = self.recipients[0]
        if self.reply_to:
            msg["Reply-To"] = self.reply_to
        msg["Date"] = format_datetime(utcnow().replace(tzinfo=timezone.utc))
        msg["Message-ID"] = self.msgId
        for name, value in (self.extra_headers or {}).items():
            msg[name] = value
        msg.set_content(self.body, cte="quoted-printable")
        msg.add_alternative(self.html, subtype="html", cte="quoted-printable")
        return msg
