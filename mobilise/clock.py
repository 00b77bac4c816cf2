"""Time in one convention: naive UTC in the database, aware values only at the edges."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def local_to_utc(day: date, hour: int, tz_name: str) -> datetime:
    """The UTC instant of `hour`:00 on `day` on the wall clock of `tz_name` (DST-aware)."""
    local = datetime.combine(day, time(hour=hour), tzinfo=ZoneInfo(tz_name))
    return to_naive_utc(local)


def deadline_end(deadline: date, tz_name: str) -> datetime:
    """A deadline is the last day to act: it ends at the midnight after it, in the office's timezone."""
    return local_to_utc(deadline + timedelta(days=1), 0, tz_name)


def days_left(deadline: date, tz_name: str = "UTC", now: datetime | None = None) -> int:
    """Calendar days left to act, counting today: 1 on the deadline itself, 0 once it has passed."""
    now = now or utcnow()
    if now >= deadline_end(deadline, tz_name):
        return 0
    today = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name)).date()
    return (deadline - today).days + 1
