"""The emails Flask-Mail sends: the contract's headers, and bytes written by `wire`; `Unsendable`, one that cannot."""

from email.errors import MessageError
from email.utils import formataddr

from flask_mail import Message

from .wire import Skeleton, date_now, encode_part, message_bytes


class Unsendable(Exception):
    """This one message cannot be composed, encoded or sent on this session, whatever the relay says: it fails
    alone and the batch goes on. str() is a short reason for the delivery, without personal data; the
    original error is its __cause__."""


# What data can make go wrong in composing or encoding one message (a lone surrogate, a line break in a
# header, a value that is not text); a database or template error is not one message's fault and stays itself.
BROKEN = (ValueError, LookupError, TypeError, MessageError)


def unsendable(step: str, error: Exception) -> Unsendable:
    """The Unsendable for an `error` met at `step` ("encoding the message"); raise it `from error`."""
    return Unsendable(f"{step} failed ({type(error).__name__})")


class OutgoingEmail(Message):
    """A Flask-Mail message whose bytes are a top-level multipart/alternative, written by `wire`, and signed by
    `signer` (a `dkim.Signer`) when its office has a DKIM key."""

    signer = None  # class defaults: an email without them has exactly Flask-Mail's fields
    envelope_from = None  # MAIL FROM, when it is not From: the email's VERP bounce address

    def __init__(
        self,
        *,
        subject,
        sender,
        recipient,
        text,
        html,
        message_id,
        reply_to=None,
        headers=None,
        signer=None,
        envelope_from=None,
    ):
        # Message.__init__'s fields, set here: it would first make a Message-ID of its own, and that looks up
        # the host's name, a noticeable share of the time per email, for an id replaced at once by ours.
        # tests/test_wire.py checks that these are exactly the fields Flask-Mail's Message has.
        self.recipients, self.subject, self.sender, self.reply_to = [recipient], subject, sender, reply_to
        self.cc, self.bcc, self.body, self.alts, self.html, self.date = [], [], text, {}, html, None
        self.msgId, self.charset, self.extra_headers = message_id, None, headers or {}
        self.mail_options, self.rcpt_options, self.attachments = [], [], []
        if signer is not None:
            self.signer = signer
        if envelope_from is not None:
            self.envelope_from = envelope_from

    def headers(self) -> list[tuple[str, str]]:
        sender = formataddr(self.sender) if isinstance(self.sender, tuple) else self.sender
        headers = [("Subject", self.subject), ("From", sender), ("To", self.recipients[0])]
        if self.reply_to:
            headers.append(("Reply-To", self.reply_to))
        headers += [("Date", date_now()), ("Message-ID", self.msgId), *(self.extra_headers or {}).items()]
        return headers

    def as_bytes(self) -> bytes:
        """The message's bytes, signed when it has a signer; Unsendable when they cannot be made."""
        try:
            written = message_bytes(self.headers(), *self.encoded_parts())
        except BROKEN as error:
            raise unsendable("encoding the message", error) from error
        return self.signer.sign(written) if self.signer is not None else written

    def encoded_parts(self) -> tuple[str, str]:
        """The text and HTML parts, quoted-printable."""
        return encode_part(self.body), encode_part(self.html)

    def as_string(self) -> str:
        return self.as_bytes().decode("utf-8")


class SplicedEmail(OutgoingEmail):
    """A mailing's email to one recipient: the shared parts encoded once (`Skeleton`), their values spliced in."""

    def __init__(self, *, text: Skeleton, html: Skeleton, values: dict[str, str], **fields):
        super().__init__(text=None, html=None, **fields)
        self.skeletons, self.values = (text, html), values

    def encoded_parts(self) -> tuple[str, str]:
        text, html = self.skeletons
        return text.fill(self.values), html.fill(self.values)
