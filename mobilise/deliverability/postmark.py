"""Postmark's webhooks, behind HTTP basic auth (Postmark signs nothing): bounces, spam complaints and
subscription changes as Reports.

Postmark's `MessageID` is its own, not ours, so an event names its email by the metadata the service attached
(`Metadata.mobilise_delivery`), else by its address. A bounce Postmark did not try to deliver because the address
is on its suppression list (`ManuallyDeactivated`) is not a new one, and neither are those about the sender or
the message rather than the address (DMARC policy, a template that failed, an API error, an auto-reply).
"""

import json

from werkzeug.datastructures import Authorization

from ..errors import Unauthorized
from .feedback import Kind, Report
from .payloads import ADDRESS_LENGTH, Fields, load_json, same, secret

BOUNCES: dict[str, Kind] = {
    "HardBounce": "hard",
    "BadEmailAddress": "hard",
    "SoftBounce": "soft",
    "Transient": "soft",
    "DnsError": "soft",
    "Blocked": "soft",
    "SpamNotification": "soft",
    "SpamComplaint": "complaint",
    "Unsubscribe": "unsubscribe",
}
SUPPRESSIONS: dict[str, Kind] = {"HardBounce": "hard", "SpamComplaint": "complaint", "ManualSuppression": "unsubscribe"}


def reports(headers, body: bytes, config) -> list[Report]:
    _check_credentials(headers.get("Authorization"), config)
    report = _report(Fields(load_json(body), "body"))
    return [] if report is None else [report]


def _check_credentials(header: str | None, config) -> None:
    user = secret(config, "POSTMARK_WEBHOOK_USER", "postmark")
    password = secret(config, "POSTMARK_WEBHOOK_PASSWORD", "postmark")
    given = Authorization.from_header(header)
    if given is None or given.type != "basic":
        raise Unauthorized("basic credentials are required")
    # Both compared, whichever is wrong, so the time taken tells nothing.
    if not same(given.username or "", user) & same(given.password or "", password):
        raise Unauthorized("the credentials do not match")


def _report(record: Fields) -> Report | None:
    record_type = record.text("RecordType", required=True)
    if record_type == "SubscriptionChange":
        if not record.flag("SuppressSending"):
            return None  # a reactivation: consent to mail is ours to record, not Postmark's
        kind, address, event_id = (
            SUPPRESSIONS.get(record.text("SuppressionReason") or ""),
            "Recipient",
            _change_id(record),
        )
    elif record_type in ("Bounce", "SpamComplaint"):
        kind = "complaint" if record_type == "SpamComplaint" else BOUNCES.get(record.text("Type") or "")
        address, event_id = "Email", record.text("ID", required=True)
    else:
        return None  # Delivery, Open, Click, Inbound
    if kind is None:
        return None
    return Report(
        source="postmark",
        kind=kind,
        event_id=event_id,
        delivery_id=record.object("Metadata").delivery(),
        email=record.text(address, ADDRESS_LENGTH),
        detail=record.detail("Details") or record.detail("Description"),
    )


def _change_id(record: Fields) -> str:
    """A subscription change has no id of its own: what it is about, and when, is the same in a retry."""
    parts = [record.text(key) for key in ("RecordType", "MessageID", "ChangedAt", "Recipient", "SuppressionReason")]
    return json.dumps(parts)
