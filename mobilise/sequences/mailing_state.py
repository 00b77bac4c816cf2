"""A mailing's states, and the only code that writes them.

    planned ──queue──▶ sending ──finish──▶ sent
       │                │  ▲
       │     pause, guard│  │resume (staff, or the tick once `paused_until` has passed)
       │                ▼  │
       │               paused
       │                │
       └──── cancel ────┴──▶ cancelled       (from planned, sending or paused)

Each transition is one conditional UPDATE that reports whether it happened: of two processes racing
for the same change, exactly one sees True and acts on it (enqueues the audience, logs the cancel).
"""

import enum
import logging
from datetime import datetime

from ..extensions import db

log = logging.getLogger(__name__)


class MailingStatus(enum.StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


WAITING = (MailingStatus.PLANNED, MailingStatus.SENDING, MailingStatus.PAUSED)


def _move(mailing_id: int, sources, values: dict, *conditions, commit: bool = True) -> bool:
    """`commit=False` leaves the change in the caller's transaction, to commit with the rest of its work."""
    from .models import Mailing

    moved = db.session.execute(
        db.update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.status.in_([str(s) for s in sources]), *conditions)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if commit:
        db.session.commit()
    return bool(moved)


def queue(mailing_id: int, now: datetime) -> bool:
    """planned → sending: its audience is to be taken."""
    return _move(mailing_id, [MailingStatus.PLANNED], {"status": MailingStatus.SENDING, "queued_at": now})


def queue_now(mailing_id: int, now: datetime) -> bool:
    """queue, then hand the mailing to a worker at once (else the next tick would)."""
    from ..jobs import enqueue_audience

    if queued := queue(mailing_id, now):
        enqueue_audience(mailing_id)
    return queued


def pause(mailing_id: int, reason: str, until: datetime | None) -> bool:
    """sending → paused, until `until` (the tick resumes it then) or, with None, until staff resume it."""
    paused = _move(
        mailing_id,
        [MailingStatus.SENDING],
        {"status": MailingStatus.PAUSED, "pause_reason": reason, "paused_until": until},
    )
    if paused:
        # The reason can quote a relay's reply, which may name an address: staff read it on the mailing.
        log.warning("mailing %s paused until %s", mailing_id, until or "staff resume it")
    return paused


def guard_pause(mailing_id: int, reason: str, baseline: dict) -> bool:
    """sending → paused until staff resume it, because what providers report passed a guard rail; `baseline` is
    what the rails had counted, so that after a resume only what follows counts. Left for the caller to commit."""
    paused = _move(
        mailing_id,
        [MailingStatus.SENDING],
        {"status": MailingStatus.PAUSED, "pause_reason": reason, "paused_until": None, "guard_baseline": baseline},
        commit=False,
    )
    if paused:
        log.warning("mailing %s paused by its guard rails until staff resume it", mailing_id)
    return paused


def resume(mailing_id: int, guard_baseline: dict | None = None, *, commit: bool = True) -> bool:
    """paused → sending (staff's resume, or a pause whose time has come). The failure count starts again; with a
    `guard_baseline`, so do the guard rails' counts."""
    values = {"status": MailingStatus.SENDING, "pause_reason": None, "paused_until": None, "failures": 0}
    if guard_baseline is not None:
        values["guard_baseline"] = guard_baseline
    return _move(mailing_id, [MailingStatus.PAUSED], values, commit=commit)


def resume_due(now: datetime) -> list[int]:
    """Every mailing whose timed pause is over goes back to sending. Returns their ids."""
    from .models import Mailing

    ids = db.session.scalars(
        db.update(Mailing)
        .where(Mailing.status == MailingStatus.PAUSED, Mailing.paused_until.is_not(None), Mailing.paused_until <= now)
        .values(status=MailingStatus.SENDING, pause_reason=None, paused_until=None)
        .returning(Mailing.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return list(ids)


def finish(mailing_id: int, now: datetime, nothing_left) -> bool:
    """sending → sent, once its audience is taken and `nothing_left` (a SQL condition: no delivery still to go)."""
    from .models import Mailing

    return _move(
        mailing_id,
        [MailingStatus.SENDING],
        {"status": MailingStatus.SENT, "finished_at": now},
        Mailing.audience_taken_at.is_not(None),
        nothing_left,
    )


def cancel(mailing_id: int, reason: str, now: datetime, *, commit: bool = True) -> bool:
    """planned, sending or paused → cancelled: nothing more of it goes out (`sending` skips what is left)."""
    cancelled = _move(
        mailing_id,
        WAITING,
        {"status": MailingStatus.CANCELLED, "finished_at": now, "pause_reason": None, "paused_until": None},
        commit=commit,
    )
    if cancelled:
        log.info("mailing %s cancelled: %s", mailing_id, reason)
    return cancelled


def record_failure(mailing_id: int, error: str, limit: int) -> bool:
    """A send job of this mailing raised. After `limit` in a row it pauses for staff, saying why. Returns whether
    it paused. (Not a status change while under the limit: the tick tries again.)"""
    from .models import Mailing

    db.session.execute(
        db.update(Mailing)
        .where(Mailing.id == mailing_id)
        .values(failures=Mailing.failures + 1, last_error=error)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    reason = f"sending failed {limit} times in a row (the last: {error}); resume the mailing once the cause is fixed"
    return _move(
        mailing_id,
        [MailingStatus.SENDING],
        {"status": MailingStatus.PAUSED, "pause_reason": reason, "paused_until": None},
        Mailing.failures >= limit,
    )


def clear_failures(mailing_id: int) -> None:
    from .models import Mailing

    db.session.execute(
        db.update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.failures > 0)
        .values(failures=0)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
