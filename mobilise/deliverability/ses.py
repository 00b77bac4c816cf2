"""Amazon SES's webhook: SNS messages (verified by `sns`) carrying SES's own JSON, in either of its formats, the
notifications set on an identity (`notificationType`) and event publishing through a configuration set
(`eventType`). Each recipient of a bounce, a complaint or an unsubscribe is one Report; a delivery, a delay, a
reject (SES refused to send: not the address's fault), an open or a click is nothing to record."""

import json
import logging

from ..sending.bounces import MESSAGE_ID
from ..sending.provider_tags import DELIVERY_ARG, delivery_id_from
from . import sns
from .feedback import Report

log = logging.getLogger(__name__)


def reports(headers, body: bytes, config) -> list[Report]:
    message = sns.verified_message(body, config)
    if message["Type"] == "SubscriptionConfirmation":
        sns.confirm_subscription(message, config)
        return []
    if message["Type"] == "UnsubscribeConfirmation":
        log.info("SNS unsubscribed this endpoint from %s; nothing to do", message["TopicArn"])
        return []
    return events_in(message)


def events_in(message: dict) -> list[Report]:
    """The Reports in one verified SNS notification."""
    try:
        event = json.loads(message["Message"])
    except ValueError:
        event = None
    if not isinstance(event, dict):
        log.warning("SNS notification on %s holds no SES event", message["TopicArn"])
        return []
    event_type = event.get("eventType") or event.get("notificationType")
    field, read = READERS.get(event_type, (None, None)) if isinstance(event_type, str) else (None, None)
    mail = _object(event, "mail")
    found = read(_object(event, field), mail) if read else []
    if not found:
        log.info("SES %s event: nothing to record", event_type if isinstance(event_type, str) else "unknown")
        return []
    delivery_id, message_id = delivery_id_from(_object(mail, "tags").get(DELIVERY_ARG)), _our_message_id(mail)
    # SES's own id for the bounce or complaint, else the SNS message's: a retry of either is recorded once.
    event_id = _object(event, field).get("feedbackId")
    if not isinstance(event_id, str):
        event_id = message["MessageId"]
    return [
        Report(
            source="ses",
            kind=kind,
            event_id=f"{event_id}:{email.lower()}",
            delivery_id=delivery_id,
            message_id=message_id,
            email=email,
            detail=detail,
        )
        for kind, email, detail in found
    ]


def _bounces(bounce: dict, mail: dict) -> list[tuple[str, str, str]]:
    kind = "hard" if bounce.get("bounceType") == "Permanent" else "soft"  # Transient, Undetermined
    summary = " ".join(v for v in (bounce.get("bounceType"), bounce.get("bounceSubType")) if isinstance(v, str))
    found = []
    for recipient in _recipients(bounce, "bouncedRecipients"):
        said = [v for v in (recipient.get("status"), recipient.get("diagnosticCode")) if isinstance(v, str)]
        found.append((kind, recipient["emailAddress"], " ".join(said) or summary or None))
    return found


def _complaints(complaint: dict, mail: dict) -> list[tuple[str, str, str]]:
    feedback_type = complaint.get("complaintFeedbackType")
    if feedback_type == "not-spam":  # the reader marked it as not spam: the opposite of a complaint
        return []
    detail = f"complaint: {feedback_type}" if isinstance(feedback_type, str) else "complaint"
    return [("complaint", r["emailAddress"], detail) for r in _recipients(complaint, "complainedRecipients")]


def _unsubscribes(subscription: dict, mail: dict) -> list[tuple[str, str, str]]:
    """SES's own list management: a reader who unsubscribed from all of the sender's mail."""
    if _object(subscription, "newTopicPreferences").get("unsubscribeAll") is not True:
        return []
    source = subscription.get("source")
    detail = f"unsubscribe: {source}" if isinstance(source, str) else "unsubscribe"
    return [("unsubscribe", email, detail) for email in _list(mail.get("destination")) if isinstance(email, str)]


# The event types that name recipients to record, the field holding the event's details, and its reader.
READERS = {
    "Bounce": ("bounce", _bounces),
    "Complaint": ("complaint", _complaints),
    "Subscription": ("subscription", _unsubscribes),
}


def _our_message_id(mail: dict) -> str | None:
    """Our Message-ID as SES keeps the original headers (`mail.messageId` is SES's own id, never ours)."""
    candidates = [_object(mail, "commonHeaders").get("messageId")]
    candidates += [
        h.get("value")
        for h in _list(mail.get("headers"))
        if isinstance(h, dict) and str(h.get("name", "")).lower() == "message-id"
    ]
    return next((c.strip() for c in candidates if isinstance(c, str) and MESSAGE_ID.fullmatch(c.strip())), None)


def _recipients(event: dict, field: str) -> list[dict]:
    return [r for r in _list(event.get(field)) if isinstance(r, dict) and isinstance(r.get("emailAddress"), str)]


def _object(parent: dict, field: str) -> dict:
    value = parent.get(field)
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []
