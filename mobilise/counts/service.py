"""Keeping the counters: every function runs inside the caller's transaction, beside the change it counts.

A mark (a delivery's `opened_at`, a drive supporter's `opened_at`, ...) is set by an UPDATE that
only matches rows where it is still empty, and returns them: only the writer that flips a mark
counts it, however many write at once or replay the same events. Counter rows are touched in key
order, so two writers never wait on each other in a circle.
"""
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import tuple_
from sqlalchemy.dialects import postgresql, sqlite

from ..clock import utcnow
from ..extensions import db
from ..sending.models import Delivery
from ..sequences.models import Mailing
from ..sql import bigint_array
from ..cases.models import Action
from ..tracking.models import Event
from .models import ActionDay, DriveCounts, DriveSupporter, MailingCounts

# The marks an event can flip, by the counter they feed (clicks are judged again later: see _count_clicks).
EVENT_MARKS = {"opened": "opened_at", "opened_human": "opened_human_at", "unsubscribed": "unsubscribed_at"}


def _insert(model):
    """INSERT with ON CONFLICT, in the dialect at hand."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def _add(model, keys: tuple[str, ...], deltas: dict[tuple, Counter]) -> None:
    """counter += delta for each row of `model` whose primary key (`keys`) is a key of `deltas`,
    creating rows on first use."""
    for key_values in sorted(deltas):
        changes = {name: n for name, n in deltas[key_values].items() if n}
        if not changes:
            continue
        statement = _insert(model).values({**dict(zip(keys, key_values)), **changes})
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=list(keys), set_={name: getattr(model, name) + statement.excluded[name] for name in changes}
            )
        )


def add_to_mailing(mailing_id: int, **changes: int) -> None:
    _add(MailingCounts, ("mailing_id",), {(mailing_id,): Counter(changes)})


def _add_to_mailings(deltas: dict[int, Counter]) -> None:
    _add(MailingCounts, ("mailing_id",), {(mailing_id,): delta for mailing_id, delta in deltas.items()})


def _add_to_drives(deltas: dict[int, Counter]) -> None:
    _add(DriveCounts, ("drive_id",), {(drive_id,): delta for drive_id, delta in deltas.items()})


def _drive_of(mailing_ids: Iterable[int]) -> dict[int, int]:
    ids = set(mailing_ids)
    if not ids:
        return {}
    return dict(db.session.execute(db.select(Mailing.id, Mailing.drive_id).where(Mailing.id.in_(ids))).all())


def _flip_deliveries(column: str, delivery_ids: Iterable[int], value: datetime | None) -> list[tuple[int, int]]:
    """Set (or clear, with None) one mark on these deliveries; (mailing, supporter) of those it changed."""
    ids = sorted(set(delivery_ids))
    if not ids:
        return []
    mark = getattr(Delivery, column)
    unchanged = mark.is_(None) if value is not None else mark.is_not(None)
    return [
        tuple(row)
        for row in db.session.execute(
            db.update(Delivery)
            .where(Delivery.id.in_(ids), unchanged)
            .values({column: value})
            .returning(Delivery.mailing_id, Delivery.supporter_id)
        )
    ]


def _flip_drive_supporters(column: str, pairs: Iterable[tuple[int, int]], value: datetime | None) -> Counter:
    """Set (or clear) one mark on these (drive, supporter) rows, making them as needed; changed ones per drive."""
    pairs = sorted(set(pairs))
    if not pairs:
        return Counter()
    mark = getattr(DriveSupporter, column)
    if value is not None:
        # One statement, the same for any number of rows (so compiled once): a new row, or an existing one
        # whose mark is still empty, is set and returned; one already marked is left and not returned.
        statement = _insert(DriveSupporter)
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


def _mark(name: str, column: str, delivery_ids: Iterable[int], value: datetime | None, sign: int = 1) -> None:
    """Flip `column` on the deliveries, then on their drive supporters, and move the `name` counters."""
    changed = _flip_deliveries(column, delivery_ids, value)
    if not changed:
        return
    drives = _drive_of(mailing for mailing, _ in changed)
    per_mailing = Counter(mailing for mailing, _ in changed)
    _add_to_mailings({m: Counter({name: sign * n}) for m, n in per_mailing.items()})
    if value is not None:
        per_drive = _flip_drive_supporters(column, {(drives[m], s) for m, s in changed}, value)
    else:  # cleared on a delivery: the supporter still counts if another email of the drive has it
        pairs = {(drives[m], s) for m, s in changed}
        still = set(
            db.session.execute(
                db.select(Mailing.drive_id, Delivery.supporter_id)
                .join(Mailing, Mailing.id == Delivery.mailing_id)
                .where(tuple_(Mailing.drive_id, Delivery.supporter_id).in_(sorted(pairs)), getattr(Delivery, column).is_not(None))
            ).all()
        )
        per_drive = _flip_drive_supporters(column, pairs - still, None)
    _add_to_drives({d: Counter({name: sign * n}) for d, n in per_drive.items()})


def count_outcomes(mailing_id: int, drive_id: int, outcomes: list[tuple[str, int]]) -> None:
    """Deliveries of one mailing became sent, failed or skipped: (status, supporter id) each.

    The sender passes what it already holds, so counting adds no lookup to the sending path."""
    by_status = Counter(status for status, _ in outcomes)
    add_to_mailing(mailing_id, sent=by_status["sent"], failed=by_status["failed"], recipients=-by_status["skipped"])
    accepted = {(drive_id, supporter_id) for status, supporter_id in outcomes if status == "sent"}
    first_time = _flip_drive_supporters("emailed_at", accepted, utcnow())
    _add_to_drives({drive_id: Counter(recipients=first_time[drive_id], sent=by_status["sent"], failed=by_status["failed"])})


def count_bounce(delivery: Delivery) -> None:
    """A sent email was reported bounced: it stays counted as sent (the relay took it), and as bounced."""
    add_to_mailing(delivery.mailing_id, bounced=1)
    _add_to_drives({_drive_of([delivery.mailing_id])[delivery.mailing_id]: Counter(bounced=1)})


def count_events(events: Iterable[tuple[str, int, bool]]) -> None:
    """Opens, clicks and unsubscribes written (kind, delivery id, machine), their clicks already judged."""
    by_mark: dict[str, set[int]] = {name: set() for name in EVENT_MARKS}
    clicks = set()
    for kind, delivery_id, machine in events:
        if kind == "open":
            by_mark["opened"].add(delivery_id)
            if not machine:
                by_mark["opened_human"].add(delivery_id)
        elif kind == "unsubscribe":
            by_mark["unsubscribed"].add(delivery_id)
        elif kind == "click":
            clicks.add(delivery_id)
    now = utcnow()
    for name, delivery_ids in by_mark.items():
        _mark(name, EVENT_MARKS[name], delivery_ids, now)
    _count_clicks(clicks, now)


def _count_clicks(delivery_ids: set[int], now: datetime) -> None:
    """`clicked` counts a person's click. A later click can show an earlier one was a scanner's burst, so
    the mark follows the judgement both ways: set where a person's click exists, cleared where none is left."""
    if not delivery_ids:
        return
    human = set(
        db.session.scalars(
            db.select(Event.delivery_id)
            .where(Event.delivery_id.in_(sorted(delivery_ids)), Event.kind == "click", ~Event.machine)
            .distinct()
        )
    )
    _mark("clicked", "clicked_at", human, now)
    _mark("clicked", "clicked_at", delivery_ids - human, None, sign=-1)


def count_action(action: Action, drive_id: int, mailing_id: int) -> None:
    """A supporter acted on a case from an email of `mailing_id` (actions are unique per supporter and case)."""
    add_to_mailing(mailing_id, acted=1)
    _add_to_drives({drive_id: Counter(acted=1)})
    _add(ActionDay, ("drive_id", "day"), {(drive_id, action.created_at.date()): Counter(actions=1)})
