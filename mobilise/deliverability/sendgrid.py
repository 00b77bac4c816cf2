"""SendGrid's Event Webhook, signed (ECDSA P-256 over the timestamp header and the raw body): its bounces,
blocks, invalid-address drops, spam reports and unsubscribes as Reports.

A drop for an address already on SendGrid's own suppression lists ("Bounced Address", "Spam Reporting Address",
"Unsubscribed Address") is not a new bounce: SendGrid reported that bounce, complaint or unsubscribe when it
happened. A deferral is not one either: SendGrid keeps trying, and reports how it ends as a bounce or a block.
"""

import base64
import binascii
import hashlib
import json

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from ..errors import Forbidden, Unauthorized
from .feedback import Kind, Report
from .payloads import ADDRESS_LENGTH, SENDGRID_WINDOW, Fields, check_fresh, events_in, load_json, secret

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
# A bounce in these classes says nothing against the address (the content, the sender's reputation, the volume,
# a fault on the way): a soft bounce then, so one block at a mailbox provider does not drop its every reader.
NOT_THE_ADDRESS = ("Technical", "Content", "Reputation", "Frequency or Volume Too High")


def reports(headers, body: bytes, config) -> list[Report]:
    key = _public_key(secret(config, "SENDGRID_WEBHOOK_PUBLIC_KEY", "sendgrid"))
    _verify(key, headers, body)
    read = (_report(event) for event in events_in(load_json(body), "events"))
    return [report for report in read if report is not None]


def _public_key(setting: str) -> ec.EllipticCurvePublicKey:
    """The key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo (PEM armour tolerated)."""
    lines = [line for line in setting.strip().splitlines() if not line.startswith("-----")]
    try:
        key = load_der_public_key(base64.b64decode("".join(lines), validate=True))
    except (binascii.Error, ValueError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Unauthorized("SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 DER elliptic-curve public key")
    return key


def _verify(key: ec.EllipticCurvePublicKey, headers, body: bytes) -> None:
    signature, timestamp = headers.get(SIGNATURE), headers.get(TIMESTAMP)
    if not signature or not timestamp:
        raise Forbidden("the request is not signed")
    try:
        key.verify(base64.b64decode(signature, validate=True), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        raise Forbidden("the signature does not match") from None
    check_fresh(timestamp, SENDGRID_WINDOW)


def _report(event: Fields) -> Report | None:
    kind = _kind(event)
    if kind is None:
        return None
    return Report(
        source="sendgrid",
        kind=kind,
        event_id=event.text("sg_event_id") or _digest(event),
        # Custom arguments come back as fields of the event; older accounts nest them under unique_args.
        delivery_id=event.delivery() or event.object("unique_args").delivery(),
        message_id=event.text("smtp-id"),
        email=event.text("email", ADDRESS_LENGTH),
        detail=event.detail("reason"),
    )


def _kind(event: Fields) -> Kind | None:
    name = event.text("event", required=True)
    if name == "bounce":
        temporary = event.text("type") == "blocked" or (event.text("status") or "").startswith("4")
        return "soft" if temporary or event.text("bounce_classification") in NOT_THE_ADDRESS else "hard"
    if name == "dropped":
        return "hard" if event.text("reason") == "Invalid" else None
    if name == "spamreport":
        return "complaint"
    if name in ("unsubscribe", "group_unsubscribe"):
        return "unsubscribe"
    return None  # processed, deferred, delivered, open, click, group_resubscribe, account events


def _digest(event: Fields) -> str:
    """An event without sg_event_id (older payloads) is known by its whole content, so a retry is still one."""
    return hashlib.sha256(json.dumps(event.data, sort_keys=True).encode("utf-8", "surrogatepass")).hexdigest()
