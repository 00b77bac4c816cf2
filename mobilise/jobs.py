"""The one seam to RQ: the queue names, and enqueueing by dotted path with a stable job id.

Jobs live in the top-level `workers` package and are named here by path, so `mobilise`
never imports `workers`. A job can be lost; the rows it works on are the truth and the
scheduler's tick re-makes what is missing.
"""
from datetime import datetime, timezone

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

# Listed in priority order: a worker drains `dispatch` before `send` before `default`.
QUEUE_NAMES = ("dispatch", "send", "default")

# A send job that fails (its work horse killed, the database away) is tried again, backing off up to a
# quarter of an hour. (A relay that is down is not a failure: the batch pauses and reschedules itself.)
SEND_RETRY = Retry(max=6, interval=[10, 30, 60, 120, 300, 900])

LIVE_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def redis_connection() -> Redis:
    """One client per app; redis-py pools its connections."""
    client = current_app.extensions.get("mobilise.redis")
    if client is None:
        client = Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["mobilise.redis"] = client
    return client


def redis_script(source: str):
    """A Lua script, registered once per app (redis-py loads it into Redis on first use)."""
    scripts = current_app.extensions.setdefault("mobilise.scripts", {})
    if source not in scripts:
        scripts[source] = redis_connection().register_script(source)
    return scripts[source]


def queue(name: str) -> Queue:
    return Queue(name, connection=redis_connection())


def all_queues() -> list[Queue]:
    return [queue(name) for name in QUEUE_NAMES]


def enqueue(
    path: str, *args, queue_name: str = "default", job_id: str, retry: Retry | None = None,
    at: datetime | None = None, replace_orphans: bool = False,
):
    """Enqueue `workers.<module>.<function>` (at `at`, naive UTC, if given) unless a job with this id is still
    waiting or running. `replace_orphans`, for work known to be stalled: a job marked started, or marked
    queued but in no queue (its worker was killed as it took it), is taken for lost and enqueued again."""
    connection = redis_connection()
    try:
        existing = Job.fetch(job_id, connection=connection)
        status = existing.get_status(refresh=False)
        lost = replace_orphans and (
            status == JobStatus.STARTED
            or (status == JobStatus.QUEUED and queue(existing.origin).get_job_position(job_id) is None)
        )
        if status in LIVE_STATES and not lost:
            return existing
    except NoSuchJobError:
        pass
    options = {"job_id": job_id, "retry": retry, "result_ttl": 3600, "failure_ttl": 7 * 86400}
    if at is not None:
        return queue(queue_name).enqueue_at(at.replace(tzinfo=timezone.utc), path, *args, **options)
    return queue(queue_name).enqueue(path, *args, **options)
