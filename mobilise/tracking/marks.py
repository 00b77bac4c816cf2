"""The first-time marks on a delivery (opened_at, opened_human_at, clicked_at, unsubscribed_at) that events flip.

A mark is set by an UPDATE that only matches deliveries where it is still empty, and returns them: only the
writer that flips a mark has it counted (mobilise/counts), however many write at once or replay the same events.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import tuple_

from ..clock import utcnow
from ..counts.service import count_marks, drive_of
from ..extensions import db
from ..sending.models import Delivery
from ..sequences.models import Mailing
from .models import Event

# The marks an event can flip, by the counter they feed (clicks are judged again later: see _mark_clicks).
EVENT_MARKS = {"opened": "opened_at", "opened_human": "opened_human_at", "unsubscribed": "unsubscribed_at"}


def mark_events(events: Iterable[tuple[str, int, bool]]) -> None:
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
    _mark_clicks(clicks, now)


def _mark_clicks(delivery_ids: set[int], now: datetime) -> None:
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
    _mark("clicked", "clicked_at", delivery_ids - human, None)


def _mark(name: str, column: str, delivery_ids: Iterable[int], value: datetime | None) -> None:
    """Set (or clear, with None) `column` on the deliveries, and have the `name` counters follow those it changed."""
    changed = _flip_deliveries(column, delivery_ids, value)
    if not changed:
        return
    drives = drive_of(mailing for mailing, _ in changed)
    marked = [(drives[mailing], mailing, supporter) for mailing, supporter in changed]
    still = _still_marked(column, {(drive, supporter) for drive, _, supporter in marked}) if value is None else set()
    count_marks(name, column, marked, value, still)


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


def _still_marked(column: str, pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (drive, supporter) pairs among these that another email of the drive still holds the mark for."""
    return set(
        db.session.execute(
            db.select(Mailing.drive_id, Delivery.supporter_id)
            .join(Mailing, Mailing.id == Delivery.mailing_id)
            .where(
                tuple_(Mailing.drive_id, Delivery.supporter_id).in_(sorted(pairs)),
                getattr(Delivery, column).is_not(None),
            )
        ).all()
    )
