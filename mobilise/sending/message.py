"""The emails Flask-Mail sends: the contract's headers, and bytes written by `wire`."""
from email.utils import formataddr

from flask_mail import Message

from .wire import Skeleton, date_now, encode_part, message_bytes


class Unsendable(Exception):
    """This one message cannot be composed or sent, for a reason of its own (its address, its text); its str()
    says why, without personal data. Raised before any of the message is written to the relay."""


class OutgoingEmail(Message):
    """A Flask-Mail message whose bytes are a top-level multipart/alternative, written by `wire`."""

    def __init__(self, *, subject, sender, recipient, text, html, message_id, reply_to=None, headers=None):
        # Message.__init__'s fields, set here: it would first make a Message-ID of its own, and that looks up
        # the host's name (30 µs, a tenth of the time per email sent) for an id replaced at once by ours.
        # tests/test_wire.py checks that these are exactly the fields Flask-Mail's Message has.
        self.recipients, self.subject, self.sender, self.reply_to = [recipient], subject, sender, reply_to
        self.cc, self.bcc, self.body, self.alts, self.html, self.date = [], [], text, {}, html, None
        self.msgId, self.charset, self.extra_headers = message_id, None, headers or {}
        self.mail_options, self.rcpt_options, self.attachments = [], [], []

    def headers(self) -> list[tuple[str, str]]:
        sender = formataddr(self.sender) if isinstance(self.sender, tuple) else self.sender
        headers = [("Subject", self.subject), ("From", sender), ("To", self.recipients[0])]
        if self.reply_to:
            headers.append(("Reply-To", self.reply_to))
        headers += [("Date", date_now()), ("Message-ID", self.msgId), *(self.extra_headers or {}).items()]
        return headers

    def as_bytes(self) -> bytes:
        return message_bytes(self.headers(), encode_part(self.body), encode_part(self.html))

    def as_string(self) -> str:
        return self.as_bytes().decode("ascii")


class SplicedEmail(OutgoingEmail):
    """A mailing's email to one recipient: the shared parts encoded once (`Skeleton`), their values spliced in."""

    def __init__(self, *, text: Skeleton, html: Skeleton, values: dict[str, str], **fields):
        super().__init__(text=None, html=None, **fields)
        self.skeletons, self.values = (text, html), values

    def as_bytes(self) -> bytes:
        text, html = self.skeletons
        return message_bytes(self.headers(), text.fill(self.values), html.fill(self.values))
