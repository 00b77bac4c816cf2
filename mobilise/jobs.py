"""The one seam to RQ: the queue names, and enqueueing by dotted path with a stable job id.

Jobs live in the top-level `workers` package and are named here by path, so `mobilise`
never imports `workers`. Redis only carries work: a job can be lost (a killed worker, Redis
emptied), and the tick re-makes it from the rows, which are the truth.
"""

from datetime import UTC, datetime, timedelta

from flask import current_app
from redis import ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry  # not RQ's Retry, which jobs take
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

# Listed in priority order: a worker drains `dispatch` before `send` before `default`.
QUEUE_NAMES = ("dispatch", "send", "default")

# A started job whose worker has not shown life for this long is taken for lost with its worker. RQ's
# worker renews a job's heartbeat every `job_monitoring_interval` (30 s) while it runs.
STALE_HEARTBEAT = timedelta(seconds=90)


def redis_connection() -> Redis:
    """One client per app; redis-py pools its connections."""
    client = current_app.extensions.get("mobilise.redis")
    if client is None:
        client = Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["mobilise.redis"] = client
    return client


def quick_redis(timeout: float = 1.0) -> Redis:
    """The app's Redis through a client that tries once and gives up after `timeout` seconds: for the health check
    and the metrics, which must answer while Redis hangs (redis-py's own client retries for several seconds)."""
    client = redis_connection()
    made = current_app.extensions.get("mobilise.quick_redis")
    if made is None or made[0] is not client:  # made again when the app's client is replaced
        pool = client.connection_pool
        options = {
            **pool.connection_kwargs,
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": RedisRetry(NoBackoff(), 0),
        }
        made = (client, Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **options)))
        current_app.extensions["mobilise.quick_redis"] = made
    return made[1]


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
    path: str,
    *args,
    queue_name: str = "default",
    job_id: str,
    retry: Retry | None = None,
    job_timeout: int | None = None,
):
    """Enqueue `workers.<module>.<function>` unless a job with this id is still waiting in its queue or running
    with a live worker. Anything else under that id (finished, failed, lost with a killed worker or with
    Redis's keys) is replaced, so the tick can hand out the same work again every minute without piling
    it up."""
    connection = redis_connection()
    try:
        existing = Job.fetch(job_id, connection=connection)
        if is_live(existing):
            return existing
    except NoSuchJobError:
        pass
    options = {"job_id": job_id, "retry": retry, "result_ttl": 3600, "failure_ttl": 7 * 86400}
    if job_timeout is not None:
        options["job_timeout"] = job_timeout
    return queue(queue_name).enqueue(path, *args, **options)


def is_live(job: Job) -> bool:
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        return queue(job.origin).get_job_position(job.id) is not None  # else taken by a worker that died at once
    if status == JobStatus.STARTED:
        beat = job.last_heartbeat or job.started_at
        return beat is not None and datetime.now(UTC) - beat.replace(tzinfo=UTC) < STALE_HEARTBEAT
    return status in (JobStatus.SCHEDULED, JobStatus.DEFERRED)


def enqueue_audience(mailing_id: int) -> None:
    """A mailing now sending: a worker takes its audience and enqueues its batches."""
    enqueue("workers.sending.take_audience", mailing_id, queue_name="send", job_id=f"audience-{mailing_id}")
