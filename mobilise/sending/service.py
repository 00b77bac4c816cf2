"""Sending a mailing: take its audience, write the deliveries, send them in batches.

Each batch is one RQ job named by its range of delivery ids, and one SMTP session (`batch`). Its
deliveries are claimed before their emails leave and marked as they go (`claims`): a retried or
duplicated job finds nothing left to claim. Nothing here schedules itself for later: what is left
(deferred deliveries, a dead claim, a pause that ends) is a row with a time, and the tick (`tick`)
hands it to a worker when that time comes.
"""

import logging
from contextlib import contextmanager

from flask import current_app

from ..audit.service import record
from ..clock import utcnow
from ..counts.service import add_to_mailing
from ..errors import Conflict, NotFound
from ..extensions import db
from ..jobs import enqueue, enqueue_audience
from ..offices.models import Office
from ..sequences import mailing_state
from ..sequences.mailing_state import MailingStatus
from ..sequences.models import Mailing
from ..sequences.service import audience_query, why_not_send
from ..supporters.models import Supporter
from . import delivery_state, guard_rails
from .batch import Batch, Halted, Paused
from .claims import Claim, LeaseLost, recover_expired
from .delivery_state import UNFINISHED, DeliveryStatus
from .models import Delivery
from .relays import relay_for

log = logging.getLogger(__name__)


def stop(mailing_id: int, reason: str) -> bool:
    """Cancel a mailing (if it is still waiting) and skip whatever of it has not gone. Returns whether it was
    cancelled now."""
    cancelled = mailing_state.cancel(mailing_id, reason, utcnow())
    skip_cancelled(mailing_id, reason)
    return cancelled


def skip_cancelled(mailing_id: int, reason: str = "cancelled") -> None:
    skipped = delivery_state.skip_remaining(mailing_id, reason)
    if skipped:
        add_to_mailing(mailing_id, recipients=-skipped)
    db.session.commit()


def take_audience(mailing_id: int) -> int:
    """Write one queued delivery per audience member (once), then enqueue the batches. Returns the batch count."""
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or mailing.status != MailingStatus.SENDING:
        log.info("mailing %s not taken: %s", mailing_id, "missing" if mailing is None else mailing.status)
        return 0
    if reason := why_not_send(mailing, utcnow()):
        stop(mailing_id, reason)
        return 0
    if mailing.audience_taken_at is None:
        # The deliveries and `audience_taken_at` commit together, so none exist yet; a second job racing
        # this one fails on the (mailing_id, supporter_id) key and writes nothing. (A NOT EXISTS against
        # deliveries here made PostgreSQL scan the growing table once per supporter.)
        rows = audience_query(mailing).with_only_columns(
            db.literal(mailing.id), Supporter.id, db.literal(DeliveryStatus.QUEUED.value)
        )
        taken = db.session.execute(
            db.insert(Delivery).from_select(["mailing_id", "supporter_id", "status"], rows),
            execution_options={"preserve_rowcount": True},  # SQLAlchemy keeps an INSERT's count only when asked
        )
        add_to_mailing(mailing.id, recipients=taken.rowcount)
        mailing.audience_taken_at = utcnow()
        db.session.commit()
    batches = enqueue_batches(mailing.id)
    finish_if_done(mailing.id)
    return batches


def enqueue_batches(mailing_id: int) -> int:
    """One job per SEND_BATCH_SIZE due deliveries, named by its id range. The database numbers the rows and hands
    back each range's ends, so a million-person audience costs 500 rows here, not a million ids."""
    size = current_app.config["SEND_BATCH_SIZE"]
    numbered = (
        # Integer division written out: SQLAlchemy's `/` is true division and its `//` needs FLOOR().
        db.select(
            Delivery.id,
            db.literal_column(f"(row_number() OVER (ORDER BY deliveries.id) - 1) / {int(size)}").label("chunk"),
        )
        .where(Delivery.mailing_id == mailing_id, delivery_state.due(utcnow()))
        .subquery()
    )
    ranges = db.session.execute(
        db.select(db.func.min(numbered.c.id), db.func.max(numbered.c.id))
        .group_by(numbered.c.chunk)
        .order_by(numbered.c.chunk)
    ).all()
    for first, last in ranges:
        enqueue(
            "workers.sending.send_batch",
            mailing_id,
            first,
            last,
            queue_name="send",
            job_id=f"batch-{mailing_id}-{first}-{last}",
            job_timeout=SEND_JOB_TIMEOUT,
        )
    return len(ranges)


# A batch at a low rate limit can take long; RQ would kill it at its default three minutes.
SEND_JOB_TIMEOUT = 3 * 3600


def send_batch(mailing_id: int, first_id: int, last_id: int) -> dict:
    """Send the due deliveries of one mailing with ids in [first_id, last_id], over one SMTP session."""
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None:
        return {"skipped": "no such mailing"}
    if mailing.status == MailingStatus.CANCELLED:
        skip_cancelled(mailing_id)
        return {"skipped": "cancelled"}
    if mailing.status != MailingStatus.SENDING:
        return {"skipped": f"mailing is {mailing.status}"}
    now = utcnow()
    if reason := why_not_send(mailing, now):
        stop(mailing_id, reason)
        return {"skipped": reason}
    relay = relay_for(mailing.drive.office.code)
    if down := relay.down_until():
        until, why = down
        mailing_state.pause(mailing_id, f"relay {relay.name!r} cannot be reached ({why})", until)
        return {"skipped": "relay down"}

    recover_expired(now, mailing_id)
    claim = Claim(mailing_id, mailing.drive_id)
    try:
        claimed = claim.take(first_id, last_id)
        if not claimed:
            claim.end([])
            finish_if_done(mailing_id)
            return {}
        try:
            counts = Batch(mailing, relay, claim, claimed).send()
        except Paused as pause:
            mailing_state.pause(mailing_id, pause.reason, pause.until)
            return {"paused": pause.reason}
        except Halted as halt:
            log.info("mailing %s: batch %s-%s stopped, %s", mailing_id, first_id, last_id, halt)
            return {"halted": str(halt)}
        except LeaseLost:
            log.warning(
                "mailing %s: batch %s-%s lost its claim; its deliveries were recovered", mailing_id, first_id, last_id
            )
            return {"lost": claim.id}
    finally:
        claim.journal.close()
    mailing_state.clear_failures(mailing_id)
    finish_if_done(mailing_id)
    return counts


def finish_if_done(mailing_id: int) -> bool:
    unfinished = db.select(Delivery.id).where(Delivery.mailing_id == mailing_id, Delivery.status.in_(UNFINISHED))
    return mailing_state.finish(mailing_id, utcnow(), ~unfinished.exists())


@contextmanager
def failures_counted(mailing_id: int):
    """A send job of this mailing that raises is counted on the mailing, which pauses for staff after too many
    in a row (else the tick would hand the same failing work out every minute, for ever). The error is
    raised again, for RQ's failed-job registry."""
    try:
        yield
    except Exception as error:
        db.session.rollback()
        # The type and the first line only: a database error's text can hold the row's values.
        why = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
        if mailing_state.record_failure(mailing_id, why, current_app.config["SEND_PAUSE_AFTER_FAILURES"]):
            log.error("mailing %s paused after repeated failures: %s", mailing_id, why)
        raise


def visible_mailing(mailing_id: int, office: Office | None) -> Mailing:
    """A mailing, if staff of `office` (None: an admin) may see it."""
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or (office is not None and mailing.drive.office_id != office.id):
        raise NotFound("no such mailing")
    return mailing


def resume_mailing(mailing: Mailing) -> int:
    """Staff resume a paused mailing: the batches are handed to workers again. Returns the batch count.
    Once the guard rails have paused it, they count from this moment: reports still arriving about the emails
    before the pause must not pause it again by themselves."""
    baseline = guard_rails.counted(mailing.id) if mailing.guard_baseline is not None else None
    if not mailing_state.resume(mailing.id, baseline, commit=False):
        db.session.rollback()
        db.session.refresh(mailing)
        raise Conflict(f"the mailing is {mailing.status}, not paused")
    record(
        "mailing.resumed",
        subject=f"mailing {mailing.id}",
        office=mailing.drive.office_id,
        details={"case": mailing.drive.case_id, "stage": mailing.stage},
    )
    db.session.commit()
    log.info("mailing %s resumed by staff", mailing.id)
    db.session.refresh(mailing)
    if mailing.audience_taken_at is None:
        enqueue_audience(mailing.id)
        return 0
    return enqueue_batches(mailing.id)
