"""The tick: the one rule by which everything due gets done, whatever crashed.

Everything that must happen later is a row with a time, and nothing else:

    mailings.send_at        planned ──▶ sending, its audience job enqueued
    deliveries.retry_at     a deferred delivery's batch enqueued again
    mailings.paused_until   paused ──▶ sending, its batches enqueued again
    send_claims.lease_until a dead worker's claim: what it sent counted, the rest queued again
    consent_changes.at      a sign-up request whose confirmation email is not done: enqueued again
    visitor_actions.requested_at  a visitor's action whose email is not done: enqueued again; past 14 days,
                            its address forgotten
    audit_entries.at        past AUDIT_RETENTION_DAYS, deleted
    webhook_deliveries.next_attempt_at  a webhook out due (a retry, or its job lost): enqueued again; past 30
                            days, the row pruned

Each minute (any worker may run it; running it twice, or twice at once, does no harm) the tick reads those
rows and enqueues the jobs they call for under stable ids, so work already waiting in a queue is not
enqueued twice, and work lost with a killed worker or with every key in Redis is enqueued again. Jobs
never reschedule themselves.
"""

import logging
import time
from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy.orm import joinedload

from ..audit.service import prune_entries
from ..clock import deadline_end, utcnow
from ..extensions import db
from ..jobs import enqueue_audience, redis_connection
from ..outbound import outbox
from ..sequences import mailing_state
from ..sequences.mailing_state import MailingStatus
from ..sequences.models import Drive, Mailing
from ..sequences.service import due_mailings, why_not_send
from ..supporters.import_upkeep import look_after_imports
from ..supporters.signup import CONFIRM_WITHIN, enqueue_confirmation, unconfirmed_requests
from ..supporters.visitors import enqueue_visitor_email, forget_addresses, unemailed_requests
from .claims import recover_expired
from .delivery_state import DeliveryStatus
from .models import Delivery
from .service import enqueue_batches, finish_if_done, skip_cancelled, stop

log = logging.getLogger(__name__)

LAST_TICK = "mobilise:tick:last"  # when a tick last ended (Unix seconds), for the metrics' age of the last tick


def tick(at: datetime | None = None) -> dict:
    at = at or utcnow()
    queued = cancelled = 0
    for mailing_id in due_mailings(at):
        mailing = db.session.get(Mailing, mailing_id)
        if reason := why_not_send(mailing, at):
            cancelled += stop(mailing_id, reason)
        elif mailing_state.queue(mailing_id, at):
            enqueue_audience(mailing_id)
            queued += 1
    cancelled += _cancel_expired(at)
    resumed = len(mailing_state.resume_due(at))
    recovered = recover_expired(at)
    handed = _hand_out()
    _skip_cancelled()
    for request_id in unconfirmed_requests(at - CONFIRM_WITHIN):
        enqueue_confirmation(request_id)
    for request_id in unemailed_requests(at - CONFIRM_WITHIN):
        enqueue_visitor_email(request_id)
    forget_addresses(at)
    look_after_imports(at)
    prune_entries(at)
    webhooks = outbox.hand_out(at)
    outbox.prune(at)
    result = {
        "queued": queued,
        "cancelled": cancelled,
        "resumed": resumed,
        "recovered": recovered,
        "batches": handed,
        "webhooks": webhooks,
    }
    log.info("tick at %s: %s", at.isoformat(), result)
    _record_tick()
    return result


def _record_tick() -> None:
    # The time the tick ran, not `at` (a test's or a catch-up's): the metrics say how long ago a tick last ended.
    try:
        redis_connection().set(LAST_TICK, time.time())
    except RedisError:
        log.warning("the tick's time was not recorded: Redis did not answer")


def _hand_out() -> int:
    """Every sending mailing's due work enqueued (again): its audience if not taken yet, else its batches."""
    batches = 0
    sending = db.session.execute(
        db.select(Mailing.id, Mailing.audience_taken_at).where(Mailing.status == MailingStatus.SENDING)
    ).all()
    for mailing_id, taken_at in sending:
        if taken_at is None:
            enqueue_audience(mailing_id)
        elif not finish_if_done(mailing_id):
            batches += enqueue_batches(mailing_id)
    return batches


def _skip_cancelled() -> None:
    """A mailing cancelled while its deliveries waited: they are skipped (the batches would, if they still ran)."""
    waiting = db.session.scalars(
        db.select(Mailing.id)
        .where(Mailing.status == MailingStatus.CANCELLED)
        .where(
            db.select(Delivery.id)
            .where(
                Delivery.mailing_id == Mailing.id,
                Delivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED)),
            )
            .exists()
        )
    ).all()
    for mailing_id in waiting:
        skip_cancelled(mailing_id)


def _cancel_expired(at: datetime) -> int:
    """A not_acted mailing still waiting when its drive's deadline has passed is never sent."""
    # A deadline ends at the midnight after it, at most 14 hours ahead of UTC: so only drives whose
    # deadline is today's UTC date or earlier can have expired. The exact check is per office below.
    waiting = db.session.scalars(
        db.select(Mailing)
        .join(Drive)
        .where(Mailing.audience == "not_acted", Mailing.status.in_(mailing_state.WAITING), Drive.deadline <= at.date())
        .options(joinedload(Mailing.drive).joinedload(Drive.office))
    ).all()
    expired = [m.id for m in waiting if at >= deadline_end(m.drive.deadline, m.drive.office.timezone)]
    return sum(stop(mailing_id, "the drive's deadline has passed") for mailing_id in expired)
