"""One try at one delivery: POSTed, signed, to the address just checked; a 2xx delivers it, anything else sets
its next try by the backoff schedule, and a receiver failing for WEBHOOK_DISABLE_AFTER is disabled.

A try first claims its row for LEASE (a conditional UPDATE), so two jobs for the same delivery cannot both POST
it, and one whose worker died is tried again by the tick once the lease has passed.
"""

import json
import logging
import random
import time
from datetime import datetime, timedelta

import urllib3
from flask import current_app

from ..clock import iso, utcnow
from ..extensions import db
from . import safety
from .models import WebhookDelivery, WebhookEndpoint
from .signing import sign

log = logging.getLogger(__name__)

# The Standard Webhooks suggestion: after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h; each ±10 %.
BACKOFF = (5, 300, 1800, 7200, 18000, 36000)
JITTER = 0.1
TIMEOUT = urllib3.Timeout(connect=5, read=10)
# RQ stops a try past TRY_SECONDS (a receiver can trickle its answer past every read timeout); the claim's lease
# is longer, so a live try is never taken from under itself.
TRY_SECONDS = 30
LEASE = timedelta(seconds=60)
UNFINISHED = "the try did not finish"
MAX_ATTEMPTS = 12  # the backoff's first six, then every 10 h: about three days
USER_AGENT = "Mobilise-Webhooks/1.0"


def next_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try (1 for the first)."""
    base = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    return timedelta(seconds=base * random.uniform(1 - JITTER, 1 + JITTER))


def deliver(delivery_id: int, at: datetime | None = None) -> str:
    """Try the delivery if it is pending and due; what became of it, for the job's result (no payload)."""
    at = at or utcnow()
    claimed = _claim(delivery_id, at)
    if claimed is None:
        return "not due"  # delivered, failed, gone, not due yet, or being tried by another job
    delivery, unfinished_before = claimed
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        delivery.status, delivery.next_attempt_at = "failed", None
        db.session.commit()
        return "failed: the receiver is disabled"
    if unfinished_before and _failing_too_long(endpoint, at):
        # The last try never came back (its worker killed, a receiver trickling its answer past TRY_SECONDS):
        # judged here, as that try could not judge itself.
        disable(endpoint, f"failing since {iso(endpoint.failing_since)}: {UNFINISHED}", at)
        db.session.commit()
        return "failed: the receiver is now disabled"
    status_code, error = post(endpoint.url, endpoint.secret, delivery.message_id, delivery.payload)
    delivery.last_status_code, delivery.last_error = status_code, error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", at, None
        endpoint.failing_since = None
        db.session.commit()
        return "delivered"
    outcome = _failed(delivery, endpoint, error, at)
    db.session.commit()
    log.info("webhook delivery %d to endpoint %d: %s (%s)", delivery.id, endpoint.id, error, outcome)
    return outcome


def _claim(delivery_id: int, at: datetime) -> tuple[WebhookDelivery, bool] | None:
    """The delivery claimed for this try, and whether the try before never finished; None when it is not ours
    to try now.

    The try is counted, and the next one set by the backoff, before the POST: a try that never comes back (its
    worker killed, or RQ's job timeout over a receiver that trickles its answer) has still counted, so such a
    receiver is backed off and, after WEBHOOK_DISABLE_AFTER, disabled, like one that answers 500. The conditional
    UPDATE (on the attempts read) lets only one job claim a try.
    """
    row = db.session.execute(
        db.select(WebhookDelivery.attempts, WebhookDelivery.last_error).where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= at,
        )
    ).first()
    if row is None:
        db.session.commit()
        return None
    attempts, last_error = row
    claimed = db.session.execute(
        db.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.attempts == attempts,
            WebhookDelivery.next_attempt_at <= at,
        )
        .values(
            attempts=attempts + 1,
            next_attempt_at=at + max(LEASE, next_delay(attempts + 1)),
            last_status_code=None,
            last_error=UNFINISHED,
        )  # what the try's end replaces, unless it never ends
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        endpoint_id = db.session.scalar(db.select(WebhookDelivery.endpoint_id).where(WebhookDelivery.id == delivery_id))
        db.session.execute(
            db.update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_(None))
            .values(failing_since=at)
            .execution_options(synchronize_session=False)
        )  # cleared by this try's success; set first, so a try that never ends leaves the receiver failing
    db.session.commit()
    return (db.session.get(WebhookDelivery, delivery_id), last_error == UNFINISHED) if claimed else None


def _failing_too_long(endpoint: WebhookEndpoint, at: datetime) -> bool:
    return (
        endpoint.failing_since is not None and at - endpoint.failing_since > current_app.config["WEBHOOK_DISABLE_AFTER"]
    )


def _failed(delivery: WebhookDelivery, endpoint: WebhookEndpoint, error: str, at: datetime) -> str:
    endpoint.failing_since = endpoint.failing_since or at
    if _failing_too_long(endpoint, at):
        disable(endpoint, f"failing since {iso(endpoint.failing_since)}: {error}", at)
        return "failed: the receiver is now disabled"
    if delivery.attempts >= MAX_ATTEMPTS:
        # A receiver that takes the others and always refuses this one is never disabled: this one stops.
        delivery.status, delivery.next_attempt_at = "failed", None
        return f"failed after {delivery.attempts} tries"
    delivery.next_attempt_at = at + next_delay(delivery.attempts)
    return f"retry at {iso(delivery.next_attempt_at)}"


def disable(endpoint: WebhookEndpoint, reason: str, at: datetime) -> None:
    """No more tries: the receiver off, saying why, and what it was still owed marked failed (not resent when
    it is enabled again: the office's CRM reads the log to catch up)."""
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, at, reason[:300]
    db.session.flush()
    db.session.execute(
        db.update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(status="failed", next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()


def post(url: str, secret: str, message_id: str, payload: dict) -> tuple[int | None, str | None]:
    """(status code, error): error None for a 2xx. The answer's body is not read beyond its status line."""
    try:
        target = safety.target(url)
    except safety.Unsafe as refused:
        return None, str(refused)[:300]
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(time.time())  # the wall clock at this try: receivers reject an old one
    host = f"[{target.host}]" if ":" in target.host else target.host  # an IPv6 literal, as the URL wrote it
    headers = {
        "Host": host if target.port == (443 if target.scheme == "https" else 80) else f"{host}:{target.port}",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
    with _pool(target) as pool:
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as failed:
            return None, _described(failed)
        status = response.status
        response.close()  # its body unread: the receiver's words are not kept
    if 200 <= status < 300:
        return status, None
    if 300 <= status < 400:
        return status, f"HTTP {status}: a redirect, not followed"
    return status, f"HTTP {status}"  # the status only: the reason phrase is the receiver's own words


def _pool(target: safety.Target) -> urllib3.HTTPConnectionPool:
    """A pool for the one checked address; TLS still checks the certificate against the URL's host."""
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=TIMEOUT,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=TIMEOUT, maxsize=1)


def _described(failed: Exception) -> str:
    reason = getattr(failed, "reason", None) or failed
    if isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return "timed out"
    if isinstance(reason, urllib3.exceptions.NewConnectionError) or "refused" in str(reason).lower():
        return "connection refused or unreachable"
    if isinstance(reason, urllib3.exceptions.SSLError):
        return "TLS failed (the certificate, or the handshake)"
    return f"{type(reason).__name__}"[:300]
