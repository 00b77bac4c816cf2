"""Opens and clicks travel through a Redis stream and reach the database in batches.

The pixel and the redirect only append the event to this process's buffer, so they answer at
once; a thread sends the buffer to the stream every FLUSH_INTERVAL as one entry (one XADD of a
JSON list: a command per event cost the web process ~20 µs each in redis-py, half a pixel). A worker job
(`flush_events`, every minute and before a burst worker exits) reads the stream as a consumer
group, writes the batch, then acknowledges it: an entry read by a worker that died is claimed
again, and each event's key makes a replayed entry a no-op. When Redis cannot be reached, the
batch is written to the database directly: nothing is lost. What a web process holds when it
is killed outright (SIGKILL) is lost: at most FLUSH_INTERVAL of opens and clicks; a normal
shutdown sends it first. Actions and unsubscribes never wait here: they are written at once.

Replays are bounded where the rows are written, so the pixel pays nothing and Redis away bounds them
too: in each REPEAT_WINDOW an email keeps one open row per judgement (a person's, a machine's), and
for each of its links the first and the last click of each judgement. The clicks are thinned once
judged: the last one stays because a later click of another link is judged against it.
"""

import atexit
import itertools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError, ResponseError

from ..extensions import db
from ..networks import network_of
from ..sending.models import Delivery
from .classify import classify_request, machine_clicks
from .marks import mark_events
from .models import Event

log = logging.getLogger(__name__)

STREAM = "mobilise:events"
WAITING = "mobilise:events:waiting"  # how many events the stream's entries hold, for the queues page
GROUP = "writers"
BATCH = 1000
CLAIM_AFTER_MS = 60_000
FLUSH_INTERVAL = 0.05  # seconds an event may wait in a web process
FLUSH_AT = 200  # or fewer, when this many are waiting
REPEAT_WINDOW = 60  # seconds


def tracking_redis() -> Redis:
    """A client that gives up fast: a pixel must not wait on a Redis that is away."""
    client = current_app.extensions.get("mobilise.tracking_redis")
    if client is None:
        client = Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=0.25, socket_timeout=0.5, retry_on_timeout=False
        )
        current_app.extensions["mobilise.tracking_redis"] = client
    return client


class EventBuffer:
    """One per app and process: events wait here a few milliseconds, then go to Redis together."""

    def __init__(self, app):
        self.app = app
        self.waiting: deque = deque()
        self.lock = threading.Lock()
        self.wakeup = threading.Event()
        self.stopped = threading.Event()
        self.thread = None
        self.pid = None
        self.starting = threading.Lock()

    def add(self, event: tuple) -> None:
        self.waiting.append(event)
        if self.thread is None or self.pid != os.getpid():  # first use in this (possibly forked) process
            self._start()
        if len(self.waiting) >= FLUSH_AT:
            self.wakeup.set()

    def _start(self) -> None:
        with self.starting:  # the web's threads may all come here at once: one of them starts the thread
            if self.thread is not None and self.pid == os.getpid():
                return
            self.thread = threading.Thread(target=self._run, name="mobilise-events", daemon=True)
            self.thread.start()
            self.pid = os.getpid()
            atexit.register(self.drain)

    def _run(self) -> None:
        while not self.stopped.is_set():
            self.wakeup.wait(FLUSH_INTERVAL)
            self.wakeup.clear()
            try:
                self.drain()
            except Exception:  # the thread must live on; the batch was written or is logged
                log.exception("could not write a batch of tracking events")

    def drain(self) -> None:
        """Send what is waiting to the stream now; to the database if Redis is away."""
        with self.lock:
            batch = []
            while self.waiting:
                batch.append(self.waiting.popleft())
            if not batch:
                return
            with self.app.app_context():
                try:
                    pipeline = tracking_redis().pipeline()  # MULTI: the count never lags the entry
                    pipeline.xadd(STREAM, {"events": json.dumps(batch)})
                    pipeline.incrby(WAITING, len(batch))
                    pipeline.execute()
                except (RedisError, OSError) as error:
                    log.warning("Redis unreachable (%s): writing %d events directly", type(error).__name__, len(batch))
                    write_events(batch)
                    db.session.remove()

    def stop(self) -> None:
        self.stopped.set()
        self.wakeup.set()
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            self.thread.join(timeout=2)
        self.drain()


def buffer_for(app) -> EventBuffer:
    buffer = app.extensions.get("mobilise.event_buffer")
    if buffer is None:
        buffer = app.extensions.setdefault("mobilise.event_buffer", EventBuffer(app))
    return buffer


class EventKeys:
    """Unique event keys, cheaper than uuid4 (a system call each): a random prefix per process, then a count.

    The web's threads (gunicorn's gthread) share it: the state is one tuple, replaced whole, so a thread never sees
    a process's id with another's prefix; two threads that both start it get two prefixes, still unique."""

    def __init__(self):
        self.state: tuple[int, str, itertools.count] | None = None

    def next(self) -> str:
        state = self.state
        if state is None or state[0] != os.getpid():  # a forked worker must not repeat its parent's keys
            state = self.state = (os.getpid(), os.urandom(8).hex(), itertools.count())
        _, prefix, counter = state
        return f"{prefix}{next(counter):x}"  # 16 + at most 16 characters


event_keys = EventKeys()


def record(kind: str, delivery_id: int, link_id: int | None, user_agent: str | None, address: str | None) -> None:
    """Only what the request alone can tell; the writer judges the rest (classify.py)."""
    event = (kind, delivery_id, link_id, (user_agent or "")[:300], network_of(address), time.time(), event_keys.next())
    buffer_for(current_app._get_current_object()).add(event)


def _row(event, machine_networks) -> dict:
    """A buffered event, or one read back from a stream entry's JSON, as an events row, judged."""
    kind, delivery_id, link_id, agent, network, at, event_key = event
    machine, reason = classify_request(agent, network, machine_networks)
    return {
        "kind": kind,
        "delivery_id": delivery_id,
        "link_id": link_id,
        "machine": machine,
        "reason": reason,
        "network": network,
        "created_at": datetime.fromtimestamp(at, UTC).replace(tzinfo=None),
        "event_key": event_key,
    }


def write_events(events: list) -> int:
    """Insert the events not already written, then judge the clicks of the emails they touch."""
    machine_networks = current_app.config.get("TRACKING_MACHINE_NETWORKS", ())
    rows = [_row(event, machine_networks) for event in events]
    keys = [row["event_key"] for row in rows]
    known = set()
    for start in range(0, len(keys), 500):
        known |= set(
            db.session.scalars(db.select(Event.event_key).where(Event.event_key.in_(keys[start : start + 500])))
        )
    fresh = _new_opens([row for row in rows if row["event_key"] not in known])
    if fresh:
        db.session.execute(db.insert(Event), fresh)
        clicked = {row["delivery_id"] for row in fresh if row["kind"] == "click"}
        since = min((row["created_at"] for row in fresh if row["kind"] == "click"), default=None)
        _judge_clicks(clicked, since)
        mark_events((row["kind"], row["delivery_id"], row["machine"]) for row in fresh)
    db.session.commit()
    return len(fresh)


def _window(at: datetime) -> int:
    return int(at.replace(tzinfo=UTC).timestamp() // REPEAT_WINDOW)


def _new_opens(rows: list[dict]) -> list[dict]:
    """The rows less the opens repeating one already written, or earlier here, in its window."""
    opens = [row for row in rows if row["kind"] == "open"]
    if not opens:
        return rows
    start = datetime.fromtimestamp(min(_window(row["created_at"]) for row in opens) * REPEAT_WINDOW, UTC)
    seen = set()
    delivery_ids = sorted({row["delivery_id"] for row in opens})
    for first in range(0, len(delivery_ids), 500):
        seen |= {
            (delivery_id, machine, _window(at))
            for delivery_id, machine, at in db.session.execute(
                db.select(Event.delivery_id, Event.machine, Event.created_at).where(
                    Event.kind == "open",
                    Event.delivery_id.in_(delivery_ids[first : first + 500]),
                    Event.created_at >= start.replace(tzinfo=None),
                )
            )
        }
    kept = []
    for row in rows:
        if row["kind"] == "open":
            window = (row["delivery_id"], row["machine"], _window(row["created_at"]))
            if window in seen:
                continue
            seen.add(window)
        kept.append(row)
    return kept


def _judge_clicks(delivery_ids: set[int], since: datetime | None) -> None:
    """A burst of clicks is only visible once they are all in: judge an email's clicks together. Then thin
    the repeats, judged: of each link's clicks of one judgement in a window from `since` on, the first and
    the last stay."""
    if not delivery_ids:
        return
    clicks = db.session.execute(
        db.select(Event.id, Event.delivery_id, Event.link_id, Event.created_at, Event.machine, Delivery.sent_at)
        .join(Delivery, Delivery.id == Event.delivery_id)
        .where(Event.kind == "click", Event.delivery_id.in_(delivery_ids))
    ).all()
    by_delivery: dict[int, list] = {}
    sent = {}
    for event_id, delivery_id, link_id, at, _, sent_at in clicks:
        by_delivery.setdefault(delivery_id, []).append((event_id, link_id, at))
        sent[delivery_id] = sent_at
    flagged = set()
    for delivery_id, its_clicks in by_delivery.items():
        flagged |= machine_clicks(its_clicks, sent[delivery_id])
    if flagged:
        db.session.execute(db.update(Event).where(Event.id.in_(flagged)).values(machine=True, reason="click-burst"))
    groups: dict[tuple, list[tuple[datetime, int]]] = {}
    for event_id, delivery_id, link_id, at, machine, _ in clicks:
        if since is not None and _window(at) >= _window(since):
            key = (delivery_id, link_id, machine or event_id in flagged, _window(at))
            groups.setdefault(key, []).append((at, event_id))
    repeats = [event_id for group in groups.values() for _, event_id in sorted(group)[1:-1]]
    for first in range(0, len(repeats), 500):
        db.session.execute(db.delete(Event).where(Event.id.in_(repeats[first : first + 500])))


def flush_events() -> int:
    """Move every event waiting in the stream into the database; returns how many were new."""
    buffer_for(current_app._get_current_object()).drain()  # this process's own, first
    client = tracking_redis()
    try:
        client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
    consumer = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    written = 0
    # First what a dead writer left unacknowledged, then what no one has read.
    _, stale, _ = client.xautoclaim(STREAM, GROUP, consumer, min_idle_time=CLAIM_AFTER_MS, count=BATCH)
    batches = [stale] if stale else []
    while True:
        for batch in batches:
            events = [event for _, fields in batch if fields for event in json.loads(fields[b"events"])]
            if events:
                written += write_events(events)
            ids = [entry_id for entry_id, _ in batch]
            if ids:
                pipeline = client.pipeline(transaction=False)
                pipeline.xack(STREAM, GROUP, *ids)
                pipeline.xdel(STREAM, *ids)
                pipeline.decrby(WAITING, len(events))
                pipeline.execute()
        reply = client.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=BATCH)
        if not reply or not reply[0][1]:
            return written
        batches = [reply[0][1]]
