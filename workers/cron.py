"""The scheduler's timetable, read by `flask --app app scheduler` (or `rq cron workers.cron`)."""
from rq import cron

from .dispatch import tick

# Every minute, at the minute. A tick is safe to run twice, so two schedulers do no harm.
cron.register(tick, queue_name="dispatch", cron="* * * * *", job_timeout=300)
