"""Everything at once, with nothing but two `flask worker` processes: hostile texts, odd addresses, a relay that
defers and refuses, a launch planned ahead, workers SIGKILLed at random and Redis emptied mid-send.

Every deliverable supporter must be reached, the planned launch sent, each text appear as written, no header be
injected, and no one get an email twice beyond one per kill and per worker."""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

from mobilise.clock import iso, utcnow
from mobilise.extensions import db
from mobilise.models import Delivery, Mailing
from mobilise.sequences.dispatch import start_drive
from mobilise.supporters.service import upsert_supporters

from .builders import make_case, make_office
from .conftest import ROOT
from .test_delivery_faults import Moody

SUMMARY = "Held since May. @@nope@@ {{ 7*7 }} %(x)s"
NASTY_NAMES = ["Ana\r\nBcc: x@evil.example", "@@act@@ {{ 7*7 }}"]
UNICODE_ADDRESSES = ["josé@example.org", "zoë@example.net", "müller@bücher.example"]
PEOPLE = 3000
PLANNED = 300  # the second office's launch, planned a minute ahead
KILLS = 10


class UnicodeMoody(Moody):
    """The chaos relay: offers SMTPUTF8 (as aiosmtpd can), defers some addresses once, refuses others."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.controller.loop.close()  # the plain one's, never started
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)


def people(code: str, count: int) -> list[dict]:
    rows = [{"email": f"p{n}@{code.lower()}.example.net", "first_name": f"P{n}"} for n in range(count)]
    if code == "GB":
        for n, address in enumerate(UNICODE_ADDRESSES):
            rows[10 + n]["email"] = address
        for n, name in enumerate(NASTY_NAMES):
            rows[20 + n]["first_name"] = name
    return rows


def test_workers_alone_get_every_email_out_once_through_kills_a_redis_flush_and_hostile_text(
    app, service_env, redis_client
):
    gb_rows, es_rows = people("GB", PEOPLE), people("ES", PLANNED)
    everyone = [row["email"] for row in gb_rows + es_rows]
    refused = {address for n, address in enumerate(everyone) if n % 150 == 7}
    deferred = {address for n, address in enumerate(everyone) if n % 10 == 3} - refused
    relay = UnicodeMoody(deferred=deferred, refused=refused, pause=0.02)  # the send outlasts the kills
    relay.controller.start()
    env = {
        **service_env,
        "MAIL_PORT": str(relay.port),
        "SEND_BATCH_SIZE": "150",
        "SEND_LEASE_SECONDS": "3",
        "TICK_SECONDS": "1",
        "SEND_DEFER_BACKOFF": "1,2",
        "SEND_RELAY_BACKOFF": "1",
    }

    gb = make_office()
    es = make_office(
        code="ES", name="Amnistía España", language="es", timezone="Europe/Madrid", sender="ua@es.example.org"
    )
    upsert_supporters(gb, gb_rows)
    upsert_supporters(es, es_rows)
    case = make_case(summary=SUMMARY)
    launched = start_drive(case, gb, {"office": "GB"}).mailings[0].id
    planned = start_drive(case, es, {"office": "ES", "send_at": iso(utcnow() + timedelta(seconds=60))}).mailings[0].id

    def start_worker():
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    started = time.monotonic()
    workers = [start_worker(), start_worker()]
    chance = random.Random(os.getpid())
    kills, exited, flushed_at = 0, 0, chance.randint(3, 7)
    try:
        while kills < KILLS:
            time.sleep(chance.uniform(1.5, 4.0))
            victim = chance.choice(workers)
            os.killpg(victim.pid, signal.SIGKILL)  # the worker, its job and its ticker, all at once
            victim.wait()
            workers[workers.index(victim)] = start_worker()
            kills += 1
            if kills == flushed_at:
                redis_client.flushdb()  # every queue, job, lock and rate in Redis gone
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            db.session.expire_all()
            if {db.session.get(Mailing, m).status for m in (launched, planned)} == {"sent"}:
                break
            for n, worker in enumerate(workers):
                if worker.poll() is not None:  # a worker that ended by itself would be a bug: count it, restart
                    exited += 1
                    workers[n] = start_worker()
            time.sleep(0.5)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        relay.controller.stop()

    statuses = {
        m: Counter(db.session.scalars(db.select(Delivery.status).where(Delivery.mailing_id == m)))
        for m in (launched, planned)
    }
    assert {db.session.get(Mailing, m).status for m in (launched, planned)} == {"sent"}, statuses
    assert exited == 0
    received = Counter(relay.recipients())
    deliverable = set(everyone) - refused
    assert set(received) == deliverable
    duplicates = sum(received.values()) - len(deliverable)
    print(
        f"chaos: {len(deliverable)} reached in {time.monotonic() - started:.0f} s, {kills} kills, "
        f"{duplicates} duplicates, {len(refused)} refused"
    )
    assert duplicates <= kills + len(workers), f"{duplicates} duplicates for {kills} kills"
    assert statuses[launched] + statuses[planned] == {"sent": len(deliverable), "failed": len(refused)}

    messages = [message_from_bytes(e.content, policy=policy.default) for e in relay.received]
    by_recipient = {m["To"]: m for m in messages}
    for message in messages:
        assert "Bcc" not in message and len(message.get_all("To")) == 1
        text = message.get_body(("plain",)).get_content()
        assert "@@" not in text.replace(SUMMARY, "").replace(NASTY_NAMES[1], "")
        if message["To"] in {row["email"] for row in gb_rows}:
            assert SUMMARY in text, text[:500]
    assert "@@act@@ {{ 7*7 }}" in by_recipient["p21@gb.example.net"].get_body(("plain",)).get_content()
    for address in UNICODE_ADDRESSES:
        assert address in by_recipient
