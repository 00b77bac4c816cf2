"""Mailgun's webhooks (the JSON kind: `{"signature": {...}, "event-data": {...}}`), signed with an HMAC-SHA256 of
timestamp and token: permanent and temporary failures, complaints and unsubscribes as Reports.

The signature covers only its timestamp and token, not the event, so a token is bound to the first request that
used it (a digest of its body, kept in Redis for the replay window): Mailgun's retry of that same request is taken,
a captured signature carrying any other event is refused. Without Redis nothing can be bound, so the request
answers 503 and Mailgun tries again later. A failure for an address on Mailgun's own suppression lists
("suppress-bounce", "suppress-complaint", "suppress-unsubscribe") is not a new one: Mailgun reported it when it
happened.
"""

import hashlib
import hmac
import logging

from redis.exceptions import RedisError

from ..errors import BadRequest, Forbidden, Unavailable
from ..jobs import redis_connection
from .feedback import Kind, Report
from .payloads import ADDRESS_LENGTH, ID_LENGTH, MAILGUN_WINDOW, Fields, check_fresh, load_json, same, secret

log = logging.getLogger(__name__)

KINDS: dict[str, Kind] = {"complained": "complaint", "unsubscribed": "unsubscribe"}


def reports(headers, body: bytes, config) -> list[Report]:
    key = secret(config, "MAILGUN_WEBHOOK_SIGNING_KEY", "mailgun")
    data = Fields(load_json(body), "body")
    token = _verify(key, data)
    report = _report(data.object("event-data"))
    _bind(token, body)
    return [] if report is None else [report]


def _verify(key: str, data: Fields) -> str:
    """The token of a good, fresh signature; 403 otherwise."""
    try:
        signature = data.object("signature")
        timestamp, token, given = (signature.text(name, required=True) for name in ("timestamp", "token", "signature"))
    except BadRequest:  # what is not a signature is no signature
        raise Forbidden("the request is not signed") from None
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not same(given.lower(), expected):
        raise Forbidden("the signature does not match")
    check_fresh(timestamp, MAILGUN_WINDOW)
    return token


def _bind(token: str, body: bytes) -> None:
    """The token's first request, or a retry of it (the same bytes); 403 for any other, 503 without Redis."""
    name = "mobilise:mailgun-token:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    request = hashlib.sha256(body).hexdigest()
    try:
        redis = redis_connection()
        if redis.set(name, request, nx=True, ex=MAILGUN_WINDOW + 3600) or redis.get(name) == request.encode():
            return
    except RedisError as error:
        log.warning("mailgun token cannot be checked, Redis unreachable: %s", type(error).__name__)
        raise Unavailable("the signature cannot be checked for replay now; try again later") from None
    raise Forbidden("this signature was used before, for another request")


def _report(event: Fields) -> Report | None:
    kind = _kind(event)
    if kind is None:
        return None
    event_id = event.text("id", required=True)
    message_id = event.object("message").object("headers").text("message-id")
    recipient = event.text("recipient", ADDRESS_LENGTH)
    if kind == "soft" and message_id:
        # Mailgun retries a temporary failure for hours and reports each attempt: one soft bounce per email.
        event_id = f"temporary:{message_id}:{recipient}"
    status = event.object("delivery-status")
    return Report(
        source="mailgun",
        kind=kind,
        event_id=event_id,
        delivery_id=event.object("user-variables").delivery(),
        message_id=message_id,
        email=recipient,
        detail=status.detail("message") or status.detail("description"),
    )


def _kind(event: Fields) -> Kind | None:
    name = event.text("event", required=True)
    if name == "failed":
        severity = event.text("severity")
        if severity == "temporary":
            return "soft"
        reason = event.text("reason", ID_LENGTH) or ""
        return "hard" if severity == "permanent" and not reason.startswith("suppress-") else None
    return KINDS.get(name)  # accepted, delivered, opened, clicked: nothing to record
