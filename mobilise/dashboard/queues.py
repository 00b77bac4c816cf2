"""How the work in Redis is doing: waiting, running, failed, scheduled, per queue, and the workers."""
from redis.exceptions import RedisError
from rq import Worker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from ..jobs import QUEUE_NAMES, queue, redis_connection
from ..tracking.events import WAITING


def queue_health() -> dict:
    try:
        rows = []
        for name in QUEUE_NAMES:
            q = queue(name)
            rows.append({
                "name": name,
                "waiting": q.count,
                "running": StartedJobRegistry(queue=q).count,
                "failed": FailedJobRegistry(queue=q).count,
                "scheduled": ScheduledJobRegistry(queue=q).count,
            })
        workers = Worker.count(connection=redis_connection())
        waiting = int(redis_connection().get(WAITING) or 0)
        return {"ok": True, "queues": rows, "workers": workers, "events_waiting": waiting}
    except RedisError as error:
        return {"ok": False, "error": f"Redis cannot be reached ({type(error).__name__})", "queues": [], "workers": 0}
