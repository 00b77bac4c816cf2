"""What mail systems send back, read with the standard library's `email` package: a delivery status notification
(RFC 3464) and a feedback report (RFC 5965). Pure: bytes in, plain values out; deciding what they mean for a
supporter is `inbound.py`'s.

Only the machine-readable parts are read. A bounce written for people alone (Exim's and old Gmail's plain text,
"550" somewhere in the prose) is not: the same address also receives auto-replies and vacation notices
(RFC 3834 sends them to the envelope sender), and a guess from prose would stop mail to people who are there.
"""

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes, message_from_string, policy
from email.errors import MessageError
from email.message import EmailMessage, Message
from email.utils import getaddresses

STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")  # RFC 3463: class.subject.detail
REPLY = re.compile(r"(?<!\d)([245])\d\d(?!\d)")  # an SMTP reply code, for a Diagnostic-Code with no status
# Permanent failures that say the mailbox is there: it is full (X.2.2), or this message is too big for it or for
# the system (X.2.3, X.3.4). The address is not dead, so they count as soft: a third in 30 days stops mail anyway.
ALIVE = {("2", "2"), ("2", "3"), ("3", "4")}
COMPLAINTS = ("abuse", "fraud")  # RFC 5965 3.1 feedback types that are a person's complaint; "not-spam" is not
# Tokens of ours in an address or a link: the VERP sender, the List-Unsubscribe mailto and URL. Signed, so found
# in a report they name the email with certainty (see inbound.py); characters as in tokens.py.
BOUNCE_ADDRESS = re.compile(r"\bbounce\+([A-Za-z0-9_.-]+)@")
UNSUBSCRIBE_ADDRESS = re.compile(r"\bunsubscribe\+([A-Za-z0-9_.-]+)@")
UNSUBSCRIBE_URL = re.compile(r"/unsubscribe/([A-Za-z0-9_.-]+)")


@dataclass(frozen=True)
class Failure:
    """A DSN's verdict on the email it returns."""

    kind: str  # "hard" or "soft"
    status: str | None  # the enhanced status code, e.g. "5.1.1"
    recipient: str | None  # Final-Recipient: the address as the reporting system saw it
    detail: str | None  # Diagnostic-Code, for staff to read


@dataclass(frozen=True)
class Feedback:
    """A feedback report, and what it carries that may name our email."""

    feedback_type: str  # lower-cased; "abuse" when the report gives none
    message_id: str | None  # of the returned email
    recipient: str | None  # Original-Rcpt-To, else the returned email's To
    bounce_tokens: tuple[str, ...]  # from Original-Mail-From and the returned email's Return-Path
    unsubscribe_tokens: tuple[str, ...]  # from the returned email's List-Unsubscribe

    @property
    def is_complaint(self) -> bool:
        return self.feedback_type in COMPLAINTS


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def event_id(message: Message, raw: bytes) -> str:
    """The message's own id, so the same report delivered twice is known; a digest of its bytes when it has none."""
    found = _header(message, "Message-ID")
    return found.strip() if found and found.strip() else "sha256:" + hashlib.sha256(raw).hexdigest()


def report_type(message: Message) -> str | None:
    """ "delivery-status", "feedback-report", … for a multipart/report; None for anything else."""
    if message.get_content_type() != "multipart/report":
        return None
    value = str(message.get_param("report-type") or "").strip().lower()
    return value if re.fullmatch(r"[a-z0-9.-]{1,40}", value) else "unknown"  # it is logged: a word, nothing more


def failure(message: Message) -> Failure | None:
    """The worst failure a DSN reports (hard before soft), or None: not a DSN, or only delays and deliveries.

    A delay notice (Action: delayed) is nothing: the sending system is still trying and tells again if it
    gives up; counted as soft, Postfix's warnings after some hours would stop mail to someone the retry reaches.
    """
    part = _report_part(message, "message/delivery-status")
    if part is None:
        return None
    found = [f for block in _blocks(part)[1:] if (f := _failure_of(block)) is not None]
    for kind in ("hard", "soft"):
        for one in found:
            if one.kind == kind:
                return one
    return None


def feedback(message: Message) -> Feedback | None:
    """What a feedback report says, or None when the message is not one."""
    part = _report_part(message, "message/feedback-report")
    if part is None:
        return None
    blocks = _blocks(part)
    fields = blocks[0] if blocks else Message()
    original = _returned_message(message)
    recipients = [_address(v) for v in _all(fields, "Original-Rcpt-To")]
    if not any(recipients) and original is not None:
        recipients = [address for _, address in getaddresses(_all(original, "To"))]
    senders = [*_all(fields, "Original-Mail-From"), *(_all(original, "Return-Path") if original is not None else [])]
    unsubscribe = _all(original, "List-Unsubscribe") if original is not None else []
    message_id = _header(original, "Message-ID") if original is not None else None
    return Feedback(
        feedback_type=(_header(fields, "Feedback-Type") or "abuse").strip().lower() or "abuse",
        message_id=message_id.strip() or None if message_id else None,
        recipient=next((r for r in recipients if r and "@" in r), None),
        bounce_tokens=tuple(t for s in senders for t in BOUNCE_ADDRESS.findall(s)),
        unsubscribe_tokens=tuple(
            t for s in unsubscribe for pattern in (UNSUBSCRIBE_ADDRESS, UNSUBSCRIBE_URL) for t in pattern.findall(s)
        ),
    )


def _failure_of(block: Message) -> Failure | None:
    if (_header(block, "Action") or "").strip().lower() != "failed":
        return None
    status = _header(block, "Status") or ""
    diagnostic = " ".join((_header(block, "Diagnostic-Code") or "").split()) or None
    code = STATUS.search(status) or STATUS.search(diagnostic or "")
    if code is not None:
        klass, subject, detail = code.groups()
        if klass == "2":
            return None
        kind = "hard" if klass == "5" and (subject, detail) not in ALIVE else "soft"
        status = code.group(0)
    elif (reply := REPLY.search(diagnostic or "")) is not None:
        kind, status = ("hard" if reply.group(1) == "5" else "soft"), None
    else:
        kind, status = "hard", None  # "failed" with no code: RFC 3464 2.3.3, the system gave up for good
    return Failure(kind=kind, status=status, recipient=_address(_header(block, "Final-Recipient")), detail=diagnostic)


def _report_part(message: Message, content_type: str) -> Message | None:
    """The report's machine-readable part: a direct child of the multipart/report (RFC 6522), not one found
    deeper, inside the returned email."""
    if message.get_content_type() != "multipart/report":
        return None
    try:
        parts = message.get_payload()
    except (MessageError, ValueError):
        return None
    return next((p for p in parts if isinstance(p, Message) and p.get_content_type() == content_type), None)


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status or feedback-report part: the email package gives them as messages
    (one per block for delivery-status, one in all for the others); a part sent as text is read here."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    return [
        message_from_string(chunk.strip() + "\n", policy=policy.default)
        for chunk in re.split(r"\r?\n\s*\r?\n", text)
        if chunk.strip()
    ]


def _returned_message(message: Message) -> Message | None:
    """The email the report is about: attached whole (message/rfc822) or as its headers (text/rfc822-headers)."""
    for part in message.get_payload() if message.is_multipart() else []:
        if not isinstance(part, Message):
            continue
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        elif kind in ("text/rfc822-headers", "text/rfc822"):
            try:
                return message_from_string(part.get_content(), policy=policy.default)
            except (LookupError, MessageError, ValueError):
                return None
    return None


def _header(message: Message, name: str) -> str | None:
    values = _all(message, name)
    return values[0] if values else None


def _all(message: Message, name: str) -> list[str]:
    """A header's values as text; one the email package cannot parse (a malformed address list) as it came."""
    values = []
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            try:
                values.append(str(message.policy.header_fetch_parse(key, value)))
            except (MessageError, ValueError, IndexError, TypeError):
                values.append(str(value))
    return values


def _address(value: str | None) -> str | None:
    """The address of `rfc822; someone@example.org` or `<someone@example.org>`."""
    if not value:
        return None
    text = value.split(";", 1)[1] if ";" in value else value
    text = text.strip().strip("<>").strip()
    return text or None
