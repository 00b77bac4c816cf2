"""Redis away: the pages still answer, and every open, click and action is counted once."""

import re
import shutil
import subprocess
import time

import pytest
from redis import Redis

from mobilise.extensions import db
from mobilise.models import Action, Event
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .conftest import free_port
from .test_console import sign_in

PHONE = "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140 Mobile Safari/537.36"


class RedisServer:
    """A redis-server of this test's own, with an append-only file so a restart keeps the stream."""

    def __init__(self, folder):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: apt-get install redis-server")
        self.port, self.folder, self.binary = free_port(), folder, binary
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                if Redis(port=self.port).ping():
                    return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()  # SIGTERM: Redis shuts down cleanly, the append-only file complete
        self.process.wait(timeout=10)


def pixels(relay, run_jobs, count: int) -> list[str]:
    """Launch a case to `count` supporters and return the paths of the open pixels in their emails."""
    office = make_office()
    make_supporters(office, count)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    return [
        re.search(r'src="http://mobilise\.test(/o/[^"]+)"', message.get_body(("html",)).get_content()).group(1)
        for message in relay.messages()
    ]


@pytest.fixture
def own_redis(app, tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_redis_stopped_during_a_burst_of_opens_and_actions(app, client, relay, run_jobs, flush, own_redis):
    office = make_office()
    make_supporters(office, 6)
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    links = []
    for message in relay.messages():
        html = message.get_body(("html",)).get_content()
        links.append(
            (
                re.search(r'src="http://mobilise\.test(/o/[^"]+)"', html).group(1),
                re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1),
            )
        )
    # From here on the app's events go to the Redis this test can stop.
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{own_redis.port}/0"
    app.extensions.pop("mobilise.tracking_redis", None)

    def burst(part):
        for pixel, act in part:
            assert client.get(pixel, headers={"User-Agent": PHONE}).status_code == 200
            assert client.post(act).status_code == 200

    burst(links[:2])
    from mobilise.tracking.events import buffer_for

    buffer_for(app).drain()  # these two are in the stream when Redis stops
    own_redis.stop()
    started = time.perf_counter()
    burst(links[2:4])  # Redis is away: the pages answer all the same
    assert time.perf_counter() - started < 2
    # The buffer's thread finds Redis away and writes the two opens to the database itself.
    for _ in range(100):
        db.session.expire_all()
        if db.session.scalar(db.select(db.func.count(Event.id))) == 2:
            break
        time.sleep(0.05)
    assert db.session.scalar(db.select(db.func.count(Event.id))) == 2
    own_redis.start()
    burst(links[4:])
    flush()
    flush()  # a second flush finds nothing left to write twice

    assert db.session.scalar(db.select(db.func.count(Event.id))) == 6
    assert db.session.scalar(db.select(db.func.count(Action.id))) == 6
    admin = token_for("admin@example.org", admin=True)
    counts = client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(admin)).json["offices"]["GB"]
    assert (counts["opened"], counts["opened_human"], counts["acted"]) == (6, 6, 6)


def test_an_entry_a_dead_writer_left_unacknowledged_is_written_once(app, client, relay, run_jobs, flush, redis_client):
    from mobilise.tracking.events import GROUP, STREAM

    first, second = pixels(relay, run_jobs, 2)
    client.get(first, headers={"User-Agent": PHONE})
    flush()  # creates the group and writes the first open
    client.get(second, headers={"User-Agent": PHONE})
    from mobilise.tracking.events import buffer_for

    buffer_for(app).drain()  # the web process hands it to the stream
    # A writer reads the entry and dies before acknowledging it.
    redis_client.xreadgroup(GROUP, "dead-writer", {STREAM: ">"}, count=10)
    assert flush() == 0  # not yet idle long enough to be claimed
    import mobilise.tracking.events as events

    claim_after, events.CLAIM_AFTER_MS = events.CLAIM_AFTER_MS, 0
    try:
        assert flush() == 1
        assert flush() == 0
    finally:
        events.CLAIM_AFTER_MS = claim_after
    assert db.session.scalar(db.select(db.func.count(Event.id))) == 2


def test_the_queues_page_counts_the_opens_waiting_until_the_writer_takes_them(app, client, relay, run_jobs, flush):
    from mobilise.tracking.events import buffer_for

    for pixel in pixels(relay, run_jobs, 3):
        client.get(pixel, headers={"User-Agent": PHONE})
    buffer_for(app).drain()
    token_for("admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    assert "3 opens and clicks waiting" in client.get("/console/queues").get_data(as_text=True)
    assert flush() == 3
    assert "0 opens and clicks waiting" in client.get("/console/queues").get_data(as_text=True)


def test_a_forked_web_worker_makes_event_keys_of_its_own():
    import os

    from mobilise.tracking.events import event_keys

    parent = {event_keys.next() for _ in range(3)}
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # gunicorn forks its workers from one loaded app, counter and all
        os.write(writer, " ".join(event_keys.next() for _ in range(3)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = set(os.read(reader, 4096).decode().split())
    assert len(child) == 3 and not child & parent
    assert all(len(key) <= 32 for key in parent | child)  # the events.event_key column


def test_the_web_threads_open_pixels_at_once_each_event_recorded_once(app, relay, run_jobs, flush):
    """gunicorn runs the web in threads (gthread): a worker's first pixels come in together, on fresh state."""
    import sys
    import threading

    from mobilise.tracking import events

    emails = pixels(relay, run_jobs, 8)
    app.extensions.pop("mobilise.event_buffer", None)  # a worker process's first requests: nothing started yet
    events.event_keys.state = None
    start, failures = threading.Barrier(8), []
    running = [thread.name for thread in threading.enumerate()].count("mobilise-events")

    def opens(pixel):
        client = app.test_client()
        start.wait()
        for _ in range(25):
            response = client.get(pixel, headers={"User-Agent": PHONE})
            if response.status_code != 200:
                failures.append(response.status_code)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads handed over as often as can be, as on a busy web
    try:
        threads = [threading.Thread(target=opens, args=(pixel,)) for pixel in emails]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    buffer = events.buffer_for(app)
    buffer.drain()
    assert failures == []
    assert [thread.name for thread in threading.enumerate()].count("mobilise-events") == running + 1
    assert flush() == 8  # one open a person an email in the repeat window, whatever the threads did
    keys = db.session.scalars(db.select(Event.event_key)).all()
    assert len(keys) == len(set(keys)) == 8


def test_with_redis_away_300_loads_of_one_pixel_are_still_recorded_and_bounded(app, client, relay, run_jobs, own_redis):
    [pixel] = pixels(relay, run_jobs, 1)
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{own_redis.port}/0"
    app.extensions.pop("mobilise.tracking_redis", None)
    own_redis.stop()
    from mobilise.tracking.events import buffer_for

    for _ in range(300):
        assert client.get(pixel, headers={"User-Agent": PHONE}).status_code == 200
    buffer_for(app).drain()  # Redis is away: written to the database directly
    db.session.expire_all()
    assert 1 <= db.session.scalar(db.select(db.func.count(Event.id))) <= 2
    assert db.session.scalar(db.select(db.text("count(*) FROM deliveries WHERE opened_human_at IS NOT NULL"))) == 1
