"""Sending a mailing: take its audience, write the deliveries, send them in batches.

Each batch is one RQ job and one SMTP session. A delivery is claimed (queued → sending)
before its email leaves and marked sent or failed after, so a retried or duplicated job
never sends it twice: after a crash mid-batch a claimed delivery stays `sending` rather
than risk a second copy (at most once, by design).
"""
import logging
import smtplib
from datetime import datetime

from flask import current_app

from ..clock import utcnow
from ..counts.service import add_to_mailing, count_outcomes
from ..extensions import db, mail
from ..jobs import SEND_RETRY, enqueue
from ..sequences.models import Mailing
from ..sequences.service import audience_query, why_not_send
from ..supporters.bounces import record_refusals
from ..supporters.models import Supporter
from ..tracking.models import Action
from .composer import Composer
from .models import Delivery

log = logging.getLogger(__name__)

FLUSH_EVERY = 100
TRANSIENT = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError, OSError)


class RelayUnavailable(Exception):
    """Raised so RQ's Retry tries the batch again later; the unsent deliveries are back in the queue."""


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


def enqueue_batches(mailing_id: int) -> int:
    ids = list(
        db.session.scalars(
            db.select(Delivery.id)
            .where(Delivery.mailing_id == mailing_id, Delivery.status == "queued")
            .order_by(Delivery.id)
        )
    )
    size = current_app.config["SEND_BATCH_SIZE"]
    for start in range(0, len(ids), size):
        first, last = ids[start], ids[min(start + size, len(ids)) - 1]
        enqueue(
            "workers.sending.send_batch", mailing_id, first, last,
            queue_name="send", job_id=f"batch-{mailing_id}-{first}-{last}", retry=SEND_RETRY,
        )
    return (len(ids) + size - 1) // size


def send_batch(mailing_id: int, first_id: int, last_id: int) -> dict:
    """Send the queued deliveries of one mailing with ids in [first_id, last_id], over one SMTP session."""
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or mailing.status != "sending":
        return {"skipped": "mailing is not sending"}
    if reason := why_not_send(mailing, utcnow()):
        cancel_mailing(mailing, reason)
        return {"skipped": reason}
    claimed = _claim(mailing_id, first_id, last_id)
    if not claimed:
        finish_if_done(mailing_id)
        return {"sent": 0}

    # Plain rows, not ORM objects: the progress commits below would expire and reload each one.
    rows = db.session.execute(
        db.select(Delivery.id, Supporter.id, Supporter.email, Supporter.first_name, Supporter.language, Supporter.status)
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(Delivery.id.in_(claimed))
        .order_by(Delivery.id)
    ).all()
    acted = _acted_since_taken(mailing, [row[1] for row in rows])
    composer = Composer(mailing)
    drive_id = mailing.drive_id  # read now: the progress commits expire `mailing`
    pending: dict[int, tuple[str, str | None, int]] = {}  # outcomes not yet written, with the supporter
    done: set[int] = set()
    counts: dict[str, int] = {}
    try:
        with mail.connect() as connection:
            for delivery_id, supporter_id, email, first_name, language, status in rows:
                if status != "subscribed":
                    result = ("skipped", f"supporter is {status}")
                elif supporter_id in acted:
                    result = ("skipped", "supporter has acted")
                else:
                    message = composer.spliced(delivery_id, email=email, first_name=first_name, language=language)
                    result = _send_one(connection, message)
                pending[delivery_id] = (*result, supporter_id)
                done.add(delivery_id)
                counts[result[0]] = counts.get(result[0], 0) + 1
                if len(pending) >= FLUSH_EVERY:
                    _record(mailing_id, drive_id, pending)
    except (RelayUnavailable, *TRANSIENT) as error:
        _record(mailing_id, drive_id, pending)
        _release(set(claimed) - done)
        log.warning(
            "mailing %s: relay unavailable (%s); batch %s-%s will be retried",
            mailing_id, type(error).__name__, first_id, last_id,
        )
        raise RelayUnavailable(str(error)) from error
    _record(mailing_id, drive_id, pending)
    finish_if_done(mailing_id)
    return counts


def _send_one(connection, message) -> tuple[str, str | None]:
    """One message on the open session: ('sent', None), ('refused', why) when the relay refuses the address
    for good, or ('failed', why) when it refuses the message for good."""
    try:
        connection.send(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        if code < 500:
            raise RelayUnavailable(f"{code} {reply!r}") from error
        return "refused", f"{code} {reply.decode(errors='replace')}"  # the address itself: a hard bounce
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
        if error.smtp_code < 500:
            raise RelayUnavailable(f"{error.smtp_code}") from error
        return "failed", f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    return "sent", None


def _claim(mailing_id: int, first_id: int, last_id: int) -> list[int]:
    """queued → sending for the batch's deliveries. Rows another worker is claiming at this moment are
    skipped rather than waited for (SKIP LOCKED on PostgreSQL; SQLite has one writer at a time): once it
    commits they are no longer queued, and if it rolls back they stay queued for the batch's retry."""
    free = (
        db.select(Delivery.id)
        .where(Delivery.mailing_id == mailing_id, Delivery.id.between(first_id, last_id), Delivery.status == "queued")
        .with_for_update(skip_locked=True)
    )
    claimed = db.session.scalars(
        db.update(Delivery)
        .where(Delivery.id.in_(free), Delivery.status == "queued")
        .values(status="sending")
        .returning(Delivery.id)
    ).all()
    db.session.commit()
    return list(claimed)


def _acted_since_taken(mailing: Mailing, supporter_ids: list[int]) -> set[int]:
    """Who acted after the audience was taken: a not_acted email must not reach them."""
    if mailing.audience != "not_acted" or not supporter_ids:
        return set()
    return set(
        db.session.scalars(
            db.select(Action.supporter_id).where(
                Action.case_id == mailing.drive.case_id, Action.supporter_id.in_(supporter_ids)
            )
        )
    )


def _record(mailing_id: int, drive_id: int, outcome: dict[int, tuple[str, str | None, int]]) -> None:
    if not outcome:
        return
    now = utcnow()
    refusals = [(i, supporter_id, error) for i, (status, error, supporter_id) in outcome.items() if status == "refused"]
    outcome.update({i: ("failed", error, supporter_id) for i, supporter_id, error in refusals})
    db.session.execute(
        db.update(Delivery),
        [
            {"id": i, "status": status, "error": error, "sent_at": now if status == "sent" else None}
            for i, (status, error, _) in outcome.items()
        ],
    )
    count_outcomes(mailing_id, drive_id, [(status, supporter_id) for status, _, supporter_id in outcome.values()])
    if refusals:
        record_refusals(refusals)
    db.session.commit()
    outcome.clear()


def _release(delivery_ids: set[int]) -> None:
    if delivery_ids:
        db.session.execute(
            db.update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == "sending")
            .values(status="queued")
        )
    db.session.commit()


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
