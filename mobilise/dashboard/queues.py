"""How the work in Redis is doing: waiting, running, failed, scheduled, per queue, the workers, the relays, the tick."""

import time

from flask import current_app
from redis.exceptions import RedisError
from rq import Worker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from ..jobs import QUEUE_NAMES, queue, redis_connection
from ..sending.relays import all_relays, relay_for
from ..sending.tick import LAST_TICK
from ..tracking.events import WAITING

# The tick runs each minute in some worker: past this, what is due (reminders, retries, resumed relays) waits.
TICK_LATE_SECONDS = 180


def queue_health(office=None) -> dict:
    """The queues and workers (shared by every office), the tick, and the relays: `office`'s own, or all (None)."""
    try:
        redis = redis_connection()
        rows = []
        for name in QUEUE_NAMES:
            q = queue(name)
            rows.append(
                {
                    "name": name,
                    "waiting": q.count,
                    "running": StartedJobRegistry(queue=q).count,
                    "failed": FailedJobRegistry(queue=q).count,
                    "scheduled": ScheduledJobRegistry(queue=q).count,
                }
            )
        workers = Worker.count(connection=redis)
        waiting = int(redis.get(WAITING) or 0)
        last_tick = redis.get(LAST_TICK)
        tick_age = max(0.0, time.time() - float(last_tick)) if last_tick is not None else None
        return {
            "ok": True,
            "queues": rows,
            "workers": workers,
            "events_waiting": waiting,
            "relays": relay_states(redis, office),
            "tick_age": tick_age,
            "tick_late": tick_age is None or tick_age > TICK_LATE_SECONDS,
        }
    except RedisError as error:
        return {"ok": False, "error": f"Redis cannot be reached ({type(error).__name__})", "queues": [], "workers": 0}


def relay_states(redis, office=None) -> list[dict]:
    """Each relay: up, or down until when and why (the mailings it serves wait for it, then resume). An office's
    staff see only the relay that sends their office's mail: another's server and its errors are not theirs."""
    states = []
    for relay in [relay_for(office.code)] if office is not None else all_relays():
        down = relay.down_until(redis)
        settings = relay.settings or current_app.config  # the default relay is Flask-Mail's own MAIL_*
        server = f"{settings.get('MAIL_SERVER') or 'localhost'}:{settings.get('MAIL_PORT') or 25}"
        states.append(
            {
                "name": relay.name,
                "server": server,
                "down_until": down[0] if down else None,
                "reason": down[1] if down else None,
            }
        )
    return states
