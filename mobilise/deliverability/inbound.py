"""Mail to INBOUND_DOMAIN (`flask inbound`): which addresses exist there, and what a message to each records.

Three kinds of address, every other one refused at RCPT TO (so the server relays nothing and traps nothing):
- `bounce+TOKEN@` — every email's envelope sender (VERP), its TOKEN signed for that delivery: what comes back to
  it is a DSN (a hard or soft bounce of that email), a feedback report (a complaint about it), or else
  something ignored, such as an auto-reply or a bounce written only for people;
- `unsubscribe+TOKEN@` — the `List-Unsubscribe` mailto: any message to it unsubscribes (RFC 2369), whatever it says;
- `fbl@` — where mailbox providers' feedback loops send their reports: a complaint, its email found from the
  report (see `_complaint`).
"""

import logging
from dataclasses import dataclass
from typing import Literal

from ..tokens import read_token
from . import returned_mail
from .feedback import Report, record

log = logging.getLogger(__name__)

FBL = "fbl"


@dataclass(frozen=True)
class Mailbox:
    kind: Literal["bounce", "unsubscribe", "fbl"]
    delivery_id: int | None = None  # from the signed token of a bounce or unsubscribe address


def mailbox_for(address: str, domain: str | None) -> Mailbox | None:
    """The mailbox this RCPT TO address names, or None: another domain, an unknown local part, a token that
    does not verify. The domain is compared case-insensitively; a token never is (it is signed as it is)."""
    local, at, host = address.strip().rpartition("@")
    if not at or not domain or host.lower().rstrip(".") != domain.lower():
        return None
    if local.lower() == FBL:
        return Mailbox("fbl")
    prefix, plus, token = local.partition("+")
    kind = prefix.lower()
    if plus and kind in ("bounce", "unsubscribe") and (ids := read_token(kind, token)):
        return Mailbox(kind, ids[0])
    return None


def report_for(mailbox: Mailbox, address: str, raw: bytes) -> Report | str:
    """What a message to this mailbox records, or why it records nothing (ids only in the reason: it is logged).

    Its event id is the message's own id (or a digest of its bytes) and the address it came to: the same DSN
    delivered twice, or retried after a 451, is recorded once."""
    message = returned_mail.parse(raw)
    event = f"{returned_mail.event_id(message, raw)} to {address}"
    if mailbox.kind == "unsubscribe":
        return Report(source="inbound", kind="unsubscribe", event_id=event, delivery_id=mailbox.delivery_id)
    kind = returned_mail.report_type(message)
    if kind == "feedback-report":
        return _complaint(mailbox, message, event)
    if mailbox.kind == "fbl":
        return f"a {kind or message.get_content_type()} message to the feedback address is not a feedback report"
    if kind != "delivery-status":
        return (
            f"a {kind or message.get_content_type()} message to the bounce address of delivery "
            f"{mailbox.delivery_id} is not a DSN"
        )
    failure = returned_mail.failure(message)
    if failure is None:
        return f"a DSN for delivery {mailbox.delivery_id} reports no failure (a delay or a delivery)"
    detail = " ".join(filter(None, (failure.status, failure.detail))) or None
    return Report(source="inbound", kind=failure.kind, event_id=event, delivery_id=mailbox.delivery_id, detail=detail)


def receive(mailbox: Mailbox, address: str, raw: bytes) -> str:
    """Record what a message to this mailbox says; returns what became of it, for the log (no address in it).
    A message that cannot be read is ignored; a database error propagates: the server answers 451 and the
    sending system tries again."""
    try:
        found = report_for(mailbox, address, raw)
    except Exception as error:  # noqa: BLE001 - reading touches no database: whatever fails here, fails for good
        # Answering 451 would have the sender try the same bytes again for days; the type alone is logged.
        found = f"unreadable ({type(error).__name__})"
    if isinstance(found, str):
        return f"ignored: {found}"
    return f"{found.kind} {record(found)}"


def _complaint(mailbox: Mailbox, message, event: str) -> Report | str:
    """A feedback report's complaint. To a bounce address, the email is that address's (its VERP token is
    signed); to `fbl@`, where anyone can write, it must be named by a signed token of ours found in the report:
    the VERP sender in Original-Mail-From or the returned email's Return-Path, or the unsubscribe token in its
    List-Unsubscribe (or the unsubscribe link in its body). Our Message-IDs are sequential and addresses are
    guessable, so a report naming the email only by those could be forged to suppress a whole list: it is
    ignored, and the log says so."""
    report = returned_mail.feedback(message)
    if report is None:
        return "a feedback report without its machine-readable part"
    if not report.is_complaint:
        return f"a {report.feedback_type} feedback report is not a complaint"
    delivery_id = mailbox.delivery_id if mailbox.delivery_id is not None else _signed(report)
    if delivery_id is None:
        return "a feedback report to the feedback address names no email of ours by a signed token"
    return Report(
        source="inbound",
        kind="complaint",
        event_id=event,
        delivery_id=delivery_id,
        detail=f"feedback report: {report.feedback_type}",
    )


def _signed(report: returned_mail.Feedback) -> int | None:
    for purpose, tokens in (("bounce", report.bounce_tokens), ("unsubscribe", report.unsubscribe_tokens)):
        for token in tokens:
            if ids := read_token(purpose, token):
                return ids[0]
    return None
