"""Time in one convention: naive UTC in the database, aware values only at the edges."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def local_to_utc(day: date, hour: int, tz_name: str) -> datetime:
    """The UTC instant of `hour`:00 on `day` on the wall clock of `tz_name` (DST-aware)."""
    local = datetime.combine(day, time(hour=hour), tzinfo=ZoneInfo(tz_name))
    return to_naive_utc(local)


def deadline_end(deadline: date, tz_name: str) -> datetime:
    """A deadline is the last day to act: it ends at the midnight after it, in the office's timezone."""
    return local_to_utc(deadline + timedelta(days=1), 0, tz_name)


def today_in(tz_name: str, now: datetime | None = None) -> date:
    """The date on the wall calendar of `tz_name`."""
    return (now or utcnow()).replace(tzinfo=UTC).astimezone(ZoneInfo(tz_name)).date()


def days_left(deadline: date, tz_name: str = "UTC", now: datetime | None = None) -> int:
    """Whole days left after today: 7 on a reminder sent 7 days before, 0 on the last day and after it."""
    return max((deadline - today_in(tz_name, now)).days, 0)


def is_open(deadline: date, tz_name: str = "UTC", now: datetime | None = None) -> bool:
    return (now or utcnow()) < deadline_end(deadline, tz_name)
