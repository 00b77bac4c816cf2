"""The scheduler's timetable, read by `flask --app app scheduler` (or `rq cron workers.cron`)."""

from rq import cron

from .dispatch import tick
from .tracking import flush_events

# Every minute, at the minute. Both are safe to run twice, so two schedulers do no harm.
cron.register(tick, queue_name="dispatch", cron="* * * * *", job_timeout=300)
cron.register(flush_events, queue_name="default", cron="* * * * *", job_timeout=300)
