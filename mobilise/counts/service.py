"""Keeping the counters: every function runs inside the caller's transaction, beside the change it counts,
and is told it in ids and numbers.

A mark (a delivery's `opened_at`, flipped by tracking/marks.py; a drive supporter's `opened_at`, here) is set
by an UPDATE that only matches rows where it is still empty, and returns them: only the writer that flips a
mark counts it, however many write at once or replay the same events. Counter rows are touched in key
order, so two writers never wait on each other in a circle.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import tuple_

from ..clock import utcnow
from ..extensions import db
from ..sequences.models import Mailing
from ..sql import bigint_array, upsert
from .models import ActionDay, DriveCounts, DriveSupporter, MailingCounts


def _add(model, keys: tuple[str, ...], deltas: dict[tuple, Counter]) -> None:
    """counter += delta for each row of `model` whose primary key (`keys`) is a key of `deltas`,
    creating rows on first use."""
    for key_values in sorted(deltas):
        changes = {name: n for name, n in deltas[key_values].items() if n}
        if not changes:
            continue
        statement = upsert(model).values({**dict(zip(keys, key_values)), **changes})
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=list(keys),
                set_={name: getattr(model, name) + statement.excluded[name] for name in changes},
            )
        )


def add_to_mailing(mailing_id: int, **changes: int) -> None:
    _add(MailingCounts, ("mailing_id",), {(mailing_id,): Counter(changes)})


def _add_to_mailings(deltas: dict[int, Counter]) -> None:
    _add(MailingCounts, ("mailing_id",), {(mailing_id,): delta for mailing_id, delta in deltas.items()})


def _add_to_drives(deltas: dict[int, Counter]) -> None:
    _add(DriveCounts, ("drive_id",), {(drive_id,): delta for drive_id, delta in deltas.items()})


def drive_of(mailing_ids: Iterable[int]) -> dict[int, int]:
    ids = set(mailing_ids)
    if not ids:
        return {}
    return dict(db.session.execute(db.select(Mailing.id, Mailing.drive_id).where(Mailing.id.in_(ids))).all())


def _flip_drive_supporters(column: str, pairs: Iterable[tuple[int, int]], value: datetime | None) -> Counter:
    """Set (or clear) one mark on these (drive, supporter) rows, making them as needed; changed ones per drive."""
    pairs = sorted(set(pairs))
    if not pairs:
        return Counter()
    mark = getattr(DriveSupporter, column)
    if value is not None:
        # One statement, the same for any number of rows (so compiled once): a new row, or an existing one
        # whose mark is still empty, is set and returned; one already marked is left and not returned.
        statement = upsert(DriveSupporter)
        if db.session.get_bind().dialect.name == "postgresql":
            # All pairs as two arrays in one statement: an executemany here was a tenth of the time per email sent.
            drives, supporters = (list(column_values) for column_values in zip(*pairs))
            given = db.select(
                db.func.unnest(bigint_array(drives)),
                db.func.unnest(bigint_array(supporters)),
                db.literal(value),
            )
            statement = statement.from_select(["drive_id", "supporter_id", column], given)
            rows = None
        else:
            rows = [{"drive_id": drive, "supporter_id": supporter, column: value} for drive, supporter in pairs]
        statement = statement.on_conflict_do_update(
            index_elements=["drive_id", "supporter_id"], set_={column: statement.excluded[column]}, where=mark.is_(None)
        ).returning(DriveSupporter.drive_id)
        return Counter(db.session.scalars(statement, rows))
    return Counter(
        db.session.scalars(
            db.update(DriveSupporter)
            .where(tuple_(DriveSupporter.drive_id, DriveSupporter.supporter_id).in_(pairs), mark.is_not(None))
            .values({column: value})
            .returning(DriveSupporter.drive_id)
        )
    )


def count_marks(
    name: str,
    column: str,
    marked: list[tuple[int, int, int]],
    at: datetime | None,
    still: set[tuple[int, int]] = frozenset(),
) -> None:
    """Deliveries, as (drive, mailing, supporter), whose mark `column` was just set at `at` (or cleared, with None):
    `name` moves on each one's mailing, and on its drive for a supporter marked there the first time (or, cleared,
    for one no other email of the drive still has marked: `still` holds those (drive, supporter) pairs)."""
    sign = 1 if at is not None else -1
    per_mailing = Counter(mailing for _, mailing, _ in marked)
    _add_to_mailings({m: Counter({name: sign * n}) for m, n in per_mailing.items()})
    per_drive = _flip_drive_supporters(column, {(drive, supporter) for drive, _, supporter in marked} - still, at)
    _add_to_drives({d: Counter({name: sign * n}) for d, n in per_drive.items()})


def count_outcomes(mailing_id: int, drive_id: int, outcomes: list[tuple[str, int]]) -> None:
    """Deliveries of one mailing became sent, failed or skipped: (status, supporter id) each.

    The sender passes what it already holds, so counting adds no lookup to the sending path."""
    by_status = Counter(status for status, _ in outcomes)
    add_to_mailing(mailing_id, sent=by_status["sent"], failed=by_status["failed"], recipients=-by_status["skipped"])
    accepted = {(drive_id, supporter_id) for status, supporter_id in outcomes if status == "sent"}
    first_time = _flip_drive_supporters("emailed_at", accepted, utcnow())
    _add_to_drives(
        {drive_id: Counter(recipients=first_time[drive_id], sent=by_status["sent"], failed=by_status["failed"])}
    )


def count_bounce(mailing_id: int) -> None:
    """A sent email of this mailing was reported bounced: it stays counted as sent (the relay took it), and as bounced."""
    add_to_mailing(mailing_id, bounced=1)
    _add_to_drives({drive_of([mailing_id])[mailing_id]: Counter(bounced=1)})


def count_action(drive_id: int, mailing_id: int | None, day: date) -> None:
    """A supporter acted on a case on `day` from an email of `mailing_id` (actions are unique per supporter and case),
    or, with no mailing, a visitor acted from the public case page: the office's count only."""
    if mailing_id is not None:
        add_to_mailing(mailing_id, acted=1)
    _add_to_drives({drive_id: Counter(acted=1)})
    _add(ActionDay, ("drive_id", "day"), {(drive_id, day): Counter(actions=1)})
