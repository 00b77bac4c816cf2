"""Sending a mailing: take its audience, write the deliveries, send them in batches.

Each batch is one RQ job named by its range of delivery ids, and one SMTP session (`batch`). Its
deliveries are claimed before their emails leave and settled after (`claims`): a retried or duplicated
job finds nothing left to claim, and a killed worker's claims are recovered with at most the message in
flight sent twice. What is deferred, held by a dead claim, or waiting for a relay is rescheduled by
the batch itself, and the minute tick resumes a mailing nobody is working on (`resume_stalled`).
"""
import logging
import math
from datetime import datetime, timedelta, timezone

from flask import current_app

from ..clock import utcnow
from ..counts.service import add_to_mailing
from ..errors import Conflict, NotFound
from ..extensions import db
from ..jobs import SEND_RETRY, enqueue
from ..offices.models import Office
from ..sequences.models import Mailing
from ..sequences.service import audience_query, why_not_send
from ..supporters.models import Supporter
from .batch import Batch, Paused
from .claims import Claim, LeaseLost, is_alive, mark_alive, recover
from .models import Delivery
from .relays import relay_for

log = logging.getLogger(__name__)


def queue_mailing(mailing_id: int, now: datetime | None = None) -> bool:
    """planned → sending, exactly once however many ticks race for it, then hand it to a worker."""
    now = now or utcnow()
    claimed = db.session.execute(
        db.update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.status == "planned")
        .values(status="sending", queued_at=now)
    ).rowcount
    db.session.commit()
    if claimed:
        enqueue("workers.sending.take_audience", mailing_id, queue_name="send", job_id=f"audience-{mailing_id}")
    return bool(claimed)


def cancel_mailing(mailing: Mailing, reason: str) -> None:
    log.info("mailing %s cancelled: %s", mailing.id, reason)
    mailing.status = "cancelled"
    mailing.finished_at = utcnow()
    skipped = db.session.execute(
        db.update(Delivery)
        .where(Delivery.mailing_id == mailing.id, Delivery.status == "queued")
        .values(status="skipped", error=f"mailing cancelled: {reason}")
    ).rowcount
    add_to_mailing(mailing.id, recipients=-skipped)
    db.session.commit()


def take_audience(mailing_id: int) -> int:
    """Write one queued delivery per audience member (once), then enqueue the batches. Returns the batch count."""
    mark_alive(mailing_id)
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or mailing.status != "sending":
        log.info("mailing %s not taken: %s", mailing_id, "missing" if mailing is None else mailing.status)
        return 0
    if reason := why_not_send(mailing, utcnow()):
        cancel_mailing(mailing, reason)
        return 0
    if mailing.audience_taken_at is None:
        # The deliveries and `audience_taken_at` commit together, so none exist yet; a second job racing
        # this one fails on the (mailing_id, supporter_id) key and writes nothing. (A NOT EXISTS against
        # deliveries here made PostgreSQL scan the growing table once per supporter: 10 s for 20,000.)
        rows = audience_query(mailing).with_only_columns(db.literal(mailing.id), Supporter.id, db.literal("queued"))
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


def enqueue_batches(mailing_id: int, replace_orphans: bool = False) -> int:
    """One job per SEND_BATCH_SIZE due queued deliveries, named by its id range. The database numbers the rows
    and hands back each range's ends, so a million-person audience costs 500 rows here, not a million ids."""
    size = current_app.config["SEND_BATCH_SIZE"]
    now = utcnow()
    numbered = (
        # Integer division written out: SQLAlchemy's `/` is true division and its `//` needs FLOOR().
        db.select(Delivery.id, db.literal_column(f"(row_number() OVER (ORDER BY deliveries.id) - 1) / {int(size)}").label("chunk"))
        .where(Delivery.mailing_id == mailing_id, Delivery.status == "queued")
        .where(db.or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now))
        .subquery()
    )
    ranges = db.session.execute(
        db.select(db.func.min(numbered.c.id), db.func.max(numbered.c.id)).group_by(numbered.c.chunk).order_by(numbered.c.chunk)
    ).all()
    for first, last in ranges:
        enqueue(
            "workers.sending.send_batch", mailing_id, first, last,
            queue_name="send", job_id=f"batch-{mailing_id}-{first}-{last}", retry=SEND_RETRY,
            replace_orphans=replace_orphans,
        )
    return len(ranges)


def send_batch(mailing_id: int, first_id: int, last_id: int) -> dict:
    """Send the due queued deliveries of one mailing with ids in [first_id, last_id], over one SMTP session."""
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or mailing.status != "sending":
        return {"skipped": "mailing is not sending"}
    if reason := why_not_send(mailing, utcnow()):
        cancel_mailing(mailing, reason)
        return {"skipped": reason}
    if mailing.pause_reason and (mailing.paused_until is None or mailing.paused_until > utcnow()):
        if mailing.paused_until:
            _again(mailing_id, first_id, last_id, mailing.paused_until)
        return {"skipped": f"paused: {mailing.pause_reason}"}
    relay = relay_for(mailing.drive.office.code)
    if down := relay.down_until():
        until, why = down
        pause_mailing(mailing_id, f"relay {relay.name!r} cannot be reached ({why})", until)
        _again(mailing_id, first_id, last_id, until)
        return {"skipped": "relay down"}

    recover(mailing_id, mailing.drive_id, first_id, last_id)
    claim = Claim(mailing_id)
    claimed = claim.take(first_id, last_id)
    counts: dict = {}
    if claimed:
        try:
            counts = Batch(mailing, relay, claim, claimed).send()
        except Paused as pause:
            log.warning("mailing %s paused: %s", mailing_id, pause.reason)
            pause_mailing(mailing_id, pause.reason, pause.until)
            if pause.until:
                _again(mailing_id, first_id, last_id, pause.until)
            return {"paused": pause.reason}
        except LeaseLost:
            log.warning("mailing %s: batch %s-%s lost its claim; its deliveries were recovered", mailing_id, first_id, last_id)
            return {"lost": claim.id}
        unpause(mailing_id)
    else:
        claim.end()
    _follow_up(mailing_id, first_id, last_id)
    finish_if_done(mailing_id)
    return counts


def _follow_up(mailing_id: int, first_id: int, last_id: int) -> None:
    """Schedule the range again for what is left in it: deferred deliveries at their next retry, those held by
    another claim once its lease may have lapsed (a worker that died just now)."""
    in_range = (Delivery.mailing_id == mailing_id, Delivery.id.between(first_id, last_id))
    next_retry = db.session.scalar(
        db.select(db.func.min(Delivery.retry_at)).where(*in_range, Delivery.status == "queued")
    )
    held = db.session.scalar(db.select(Delivery.id).where(*in_range, Delivery.status == "sending").limit(1))
    lease = timedelta(seconds=current_app.config["SEND_LEASE_SECONDS"])
    moments = [moment for moment in (next_retry, utcnow() + lease if held else None) if moment]
    if moments:
        _again(mailing_id, first_id, last_id, max(min(moments), utcnow()))


def _again(mailing_id: int, first_id: int, last_id: int, at: datetime) -> None:
    # RQ schedules to the second: round up, or the job could run just before its deliveries are due.
    second = math.ceil(at.replace(tzinfo=timezone.utc).timestamp())
    enqueue(
        "workers.sending.send_batch", mailing_id, first_id, last_id, queue_name="send",
        job_id=f"batch-{mailing_id}-{first_id}-{last_id}-at{second}", retry=SEND_RETRY,
        at=datetime.fromtimestamp(second, timezone.utc).replace(tzinfo=None),
    )


def pause_mailing(mailing_id: int, reason: str, until: datetime | None) -> None:
    db.session.execute(
        db.update(Mailing).where(Mailing.id == mailing_id).values(pause_reason=reason, paused_until=until)
    )
    db.session.commit()


def unpause(mailing_id: int) -> None:
    """A batch went through: a pause that was waiting for the relay is over (a pause for staff stays)."""
    db.session.execute(
        db.update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.paused_until.is_not(None))
        .values(pause_reason=None, paused_until=None)
    )
    db.session.commit()


def visible_mailing(mailing_id: int, office: Office | None) -> Mailing:
    """A mailing, if staff of `office` (None: an admin) may see it."""
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or (office is not None and mailing.drive.office_id != office.id):
        raise NotFound("no such mailing")
    return mailing


def resume_mailing(mailing: Mailing) -> int:
    """Staff resume a paused mailing: the batches are handed to workers again. Returns the batch count."""
    if mailing.status != "sending" or not mailing.pause_reason:
        raise Conflict(f"the mailing is {mailing.status}, not paused")
    log.info("mailing %s resumed by staff (was paused: %s)", mailing.id, mailing.pause_reason)
    mailing.pause_reason = mailing.paused_until = None
    db.session.commit()
    return resume_sending(mailing.id)


def resume_stalled() -> int:
    """The tick's safety net for jobs lost with a killed worker: each sending mailing that is not paused and on
    which nothing has shown life for two leases is resumed: its audience job again if the audience is not
    taken yet, else its batches (`resume_sending`). Returns how many were resumed."""
    now = utcnow()
    quiet = now - timedelta(seconds=2 * current_app.config["SEND_LEASE_SECONDS"])
    sending = db.session.execute(
        db.select(Mailing.id, Mailing.audience_taken_at, Mailing.queued_at, Mailing.pause_reason, Mailing.paused_until)
        .where(Mailing.status == "sending")
    ).all()
    resumed = 0
    for mailing_id, taken_at, queued_at, reason, until in sending:
        if (reason and (until is None or until > now)) or is_alive(mailing_id):
            continue
        if taken_at is None:
            if queued_at and queued_at < quiet:
                enqueue("workers.sending.take_audience", mailing_id, queue_name="send",
                        job_id=f"audience-{mailing_id}", replace_orphans=True)
                resumed += 1
            continue
        resumed += bool(resume_sending(mailing_id))
    return resumed


def resume_sending(mailing_id: int) -> int:
    """Recover what dead claims hold and enqueue a batch for every range with due deliveries; a job left
    `started` by a killed worker is replaced."""
    mailing = db.session.get(Mailing, mailing_id)
    recover(mailing_id, mailing.drive_id)
    mark_alive(mailing_id)
    return enqueue_batches(mailing_id, replace_orphans=True)


def finish_if_done(mailing_id: int) -> None:
    unfinished = db.select(Delivery.id).where(
        Delivery.mailing_id == mailing_id, Delivery.status.in_(("queued", "sending"))
    )
    db.session.execute(
        db.update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.status == "sending", Mailing.audience_taken_at.is_not(None))
        .where(~unfinished.exists())
        .values(status="sent", finished_at=utcnow())
    )
    db.session.commit()
