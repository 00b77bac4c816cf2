"""Delivery when things go wrong, on real relays (aiosmtpd on loopback), real Redis and both databases:
temporary and permanent refusals, a relay that is down, too many errors, rate limits, several relays,
and workers killed with SIGKILL mid-send."""

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mobilise.counts.models import MailingCounts
from mobilise.extensions import db, mail
from mobilise.models import Delivery, Mailing
from mobilise.sending import service as sending
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .conftest import ROOT, Relay


def launch(office, count):
    make_supporters(office, count)
    drive = start_drive(make_case(), office, {"office": office.code})
    return drive.mailings[0].id


def statuses(mailing_id) -> Counter:
    return Counter(db.session.scalars(db.select(Delivery.status).where(Delivery.mailing_id == mailing_id)))


def use_relay(app, port):
    app.config["MAIL_PORT"] = port
    mail.init_app(app)


class Moody(Relay):
    """A relay that answers some addresses 451 the first `times` they are tried, and others 550 always."""

    def __init__(self, deferred=(), refused=(), times=1, pause=0.0, pipelining=True):
        super().__init__(pipelining=pipelining)
        self.pause = pause  # seconds before accepting each message: a slower relay
        self.deferred, self.times = Counter({address: times for address in deferred}), times
        self.refused = set(refused)
        self.tries = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.tries[address] += 1
        if address in self.refused:
            return "550 5.1.1 No such user"
        if self.deferred[address] > 0:
            self.deferred[address] -= 1
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.pause:
            await asyncio.sleep(self.pause)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def moody():
    relays = []

    def start(**kwargs):
        relay = Moody(**kwargs)
        relay.controller.start()
        relays.append(relay)
        return relay

    yield start
    for relay in relays:
        relay.controller.stop()


def run_until_sent(run_jobs, mailing_id, seconds=20):
    """Work the queues, RQ's schedule included, until the mailing is sent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_jobs(tick=True)
        db.session.expire_all()
        if db.session.get(Mailing, mailing_id).status == "sent":
            return
        time.sleep(0.2)
    raise AssertionError(
        f"mailing {mailing_id} still {db.session.get(Mailing, mailing_id).status}: {statuses(mailing_id)}"
    )


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-command-at-a-time"])
def test_deferred_addresses_are_delivered_later_and_refused_ones_fail_once(app, run_jobs, moody, pipelining):
    deferred = [f"person{n}@gb.example.net" for n in (1, 4, 5)]
    refused = [f"person{n}@gb.example.net" for n in (2, 6)]
    relay = moody(deferred=deferred, refused=refused, pipelining=pipelining)
    use_relay(app, relay.port)
    app.config["SEND_DEFER_BACKOFF"] = (0.5, 0.5)
    mailing_id = launch(make_office(), 8)

    run_jobs()
    assert statuses(mailing_id) == {"sent": 3, "deferred": 3, "failed": 2}
    waiting = db.session.scalars(db.select(Delivery).where(Delivery.status == "deferred")).all()
    assert all(d.attempts == 1 and d.retry_at and d.error.startswith("deferred: 451") for d in waiting)

    run_until_sent(run_jobs, mailing_id)
    assert statuses(mailing_id) == {"sent": 6, "failed": 2}
    assert sorted(relay.recipients()) == sorted(f"person{n}@gb.example.net" for n in (0, 1, 3, 4, 5, 7))
    assert all(relay.tries[address] == 2 for address in deferred)  # deferred once, then delivered
    assert all(relay.tries[address] == 1 for address in refused)  # refused for good: never tried again
    counts = db.session.get(MailingCounts, mailing_id)
    assert (counts.sent, counts.failed) == (6, 2)


def test_an_address_deferred_every_time_fails_once_its_retries_are_spent(app, run_jobs, moody):
    relay = moody(deferred=["person0@gb.example.net"], times=99)
    use_relay(app, relay.port)
    app.config["SEND_DEFER_BACKOFF"] = (0.2, 0.2)
    mailing_id = launch(make_office(), 2)

    run_until_sent(run_jobs, mailing_id)
    failed = db.session.scalar(db.select(Delivery).where(Delivery.status == "failed"))
    assert failed.attempts == 3 and failed.error.startswith("deferred 3 times; the last: 451")
    assert relay.tries["person0@gb.example.net"] == 3
    assert relay.recipients() == ["person1@gb.example.net"]


def test_a_relay_that_is_down_pauses_the_mailing_which_resumes_by_itself(app, run_jobs):
    app.config["SEND_RELAY_BACKOFF"] = (1,)
    relay = Relay()  # not listening yet
    use_relay(app, relay.port)
    mailing_id = launch(make_office(), 5)

    run_jobs()
    mailing = db.session.get(Mailing, mailing_id)
    assert statuses(mailing_id) == {"queued": 5}
    assert mailing.status == "paused" and "cannot be reached" in mailing.pause_reason and mailing.paused_until
    assert mailing.to_dict()["paused"]["reason"] == mailing.pause_reason

    run_jobs()  # still down, and not due again yet: nothing is tried
    assert statuses(mailing_id) == {"queued": 5}

    relay.controller.start()
    try:
        run_until_sent(run_jobs, mailing_id)
    finally:
        relay.controller.stop()
    assert len(relay.recipients()) == 5
    mailing = db.session.get(Mailing, mailing_id)
    assert mailing.status == "sent" and mailing.pause_reason is None and mailing.paused_until is None


def test_too_many_refusals_pause_the_mailing_for_staff_who_resume_it(app, client, run_jobs, moody):
    refused = [f"person{n}@gb.example.net" for n in range(4)]
    relay = moody(refused=refused)
    use_relay(app, relay.port)
    app.config["SEND_PAUSE_AFTER_ERRORS"] = 3
    app.config["SEND_BATCH_SIZE"] = 10
    mailing_id = launch(make_office(), 9)

    run_jobs(tick=True)
    mailing = db.session.get(Mailing, mailing_id)
    assert mailing.status == "paused"
    assert mailing.pause_reason.startswith("the relay refused 3 of the last 3 emails (the last: 550")
    assert mailing.paused_until is None
    assert statuses(mailing_id) == {"failed": 3, "queued": 6}
    assert relay.recipients() == []

    gb_token = token_for("gb@amnesty.example", office="GB")
    make_office(code="ES", name="Amnistía España", language="es", timezone="Europe/Madrid", sender="ua@es.example.org")
    es_token = token_for("es@amnesty.example", office="ES")
    [shown] = [
        m
        for m in client.get(f"/api/v1/cases/{mailing.drive.case_id}/schedule", headers=bearer(gb_token)).json
        if m["id"] == mailing_id
    ]
    assert shown["status"] == "sending" and shown["paused"] == {"reason": mailing.pause_reason, "until": None}
    assert client.post(f"/api/v1/mailings/{mailing_id}/resume", headers=bearer(es_token)).status_code == 404

    relay.refused.clear()  # staff fixed the cause
    answer = client.post(f"/api/v1/mailings/{mailing_id}/resume", headers=bearer(gb_token))
    assert answer.status_code == 200 and answer.json["paused"] is None
    assert client.post(f"/api/v1/mailings/{mailing_id}/resume", headers=bearer(gb_token)).status_code == 409
    run_jobs()
    assert statuses(mailing_id) == {"failed": 3, "sent": 6}
    assert db.session.get(Mailing, mailing_id).status == "sent"


def test_the_relay_rate_limit_per_second_is_honoured(app, run_jobs, relay):
    app.config["MAIL_PER_SECOND"] = 10
    app.config["SEND_BATCH_SIZE"] = 15
    mailing_id = launch(make_office(), 40)
    arrivals = []
    original = relay.handle_DATA

    async def stamp(server, session, envelope):
        arrivals.append(time.monotonic())
        return await original(server, session, envelope)

    relay.handle_DATA = stamp
    try:
        run_jobs()
    finally:
        del relay.handle_DATA
    assert statuses(mailing_id) == {"sent": 40}
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1) for start in arrivals)
    # 10 a second, each sent within half an interval of its reserved time: a one-second window holds 11 at most.
    assert busiest <= 11
    assert arrivals[-1] - arrivals[0] >= 39 / 10 - 0.1


def test_the_relay_hourly_window_holds_the_rest_back_and_says_until_when(app, run_jobs, relay):
    app.config["MAIL_PER_HOUR"] = 5
    mailing_id = launch(make_office(), 8)

    run_jobs(tick=True)
    assert len(relay.recipients()) == 5
    assert statuses(mailing_id) == {"sent": 5, "queued": 3}
    mailing = db.session.get(Mailing, mailing_id)
    assert "limit of 5 emails an hour" in mailing.pause_reason
    assert 55 * 60 <= (mailing.paused_until - mailing.queued_at).total_seconds() <= 61 * 60


def test_each_office_sends_through_its_own_relay(app, run_jobs, relay, moody):
    spanish = moody()
    app.config["MAIL_RELAYS"] = [{"name": "es", "server": "127.0.0.1", "port": spanish.port, "offices": ["ES"]}]
    app.extensions.pop("mobilise.relays", None)
    gb = make_office()
    es = make_office(
        code="ES", name="Amnistía España", language="es", timezone="Europe/Madrid", sender="ua@es.example.org"
    )
    make_supporters(gb, 2)
    make_supporters(es, 3)
    case = make_case()
    start_drive(case, gb, {"office": "GB"})
    start_drive(case, es, {"office": "ES"})

    run_jobs()
    assert relay.recipients() == ["person0@gb.example.net", "person1@gb.example.net"]
    assert spanish.recipients() == [f"person{n}@es.example.net" for n in range(3)]


def _busy(workers, seconds=3):
    """A worker running a job, with the pid of its work horse; None if none is busy within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for worker in workers:
            try:
                children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
            except OSError:
                continue
            if children:
                return worker, int(children[0])
        time.sleep(0.02)
    return None


def test_workers_killed_mid_send_lose_no_one_and_duplicate_at_most_one_each(app, service_env, moody):
    """Only workers: they keep the tick themselves (each second here), which recovers what the killed ones held."""
    relay = moody(pause=0.004)  # at most 250 a second: the send lasts long enough to be killed six times
    env = {
        **service_env,
        "MAIL_PORT": str(relay.port),
        "SEND_BATCH_SIZE": "40",
        "SEND_LEASE_SECONDS": "1",
        "TICK_SECONDS": "1",
    }
    count = 2000
    mailing_id = launch(make_office(), count)  # queued; the workers below send it

    def start_worker():
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    workers = [start_worker(), start_worker()]
    kills = 0
    chance = random.Random(os.getpid())
    try:
        give_up = time.monotonic() + 60
        while kills < 6 and len(relay.received) < count * 0.95 and time.monotonic() < give_up:
            time.sleep(chance.uniform(0.05, 0.6))
            busy = _busy(workers)
            if busy is None:  # the killed ones' jobs are lost: the workers' tick brings them back
                continue
            victim, horse = busy
            for pid in (horse, victim.pid):  # the worker and the job it runs, both at once, mid-batch
                os.kill(pid, signal.SIGKILL)
            victim.wait()
            workers.remove(victim)
            kills += 1
            workers.append(start_worker())

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.get(Mailing, mailing_id).status == "sent":
                break
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()

    assert kills == 6, f"only {kills} kills landed mid-batch"
    assert statuses(mailing_id) == {"sent": count}
    received = Counter(relay.recipients())
    assert set(received) == {f"person{n}@gb.example.net" for n in range(count)}
    duplicates = sum(received.values()) - count
    assert duplicates <= kills
    assert db.session.get(MailingCounts, mailing_id).sent == count


def test_a_lapsed_lease_stops_the_batch_and_the_tick_recovers_its_deliveries(app):
    from datetime import timedelta

    from mobilise.clock import utcnow
    from mobilise.counts.models import MailingCounts
    from mobilise.sending.claims import Claim, LeaseLost, recover_expired

    mailing_id = launch(make_office(), 3)
    sending.take_audience(mailing_id)
    mailing = db.session.get(Mailing, mailing_id)
    claim = Claim(mailing_id, mailing.drive_id)
    first, second, third = claim.take(0, 10**9)
    claim.accepted(first)  # the relay took the first: journalled at once (applied in bulk later)
    claim.journal.read()  # (on PostgreSQL the journal's answer is read with the next one)

    assert recover_expired(utcnow()) == 0  # a live lease is left alone
    assert recover_expired(utcnow() + timedelta(seconds=31)) == 2  # lapsed: the rest go back to the queue
    assert statuses(mailing_id) == {"sent": 1, "queued": 2}
    assert db.session.get(MailingCounts, mailing_id).sent == 1  # counted once, by the recovery
    with pytest.raises(LeaseLost):  # the stalled batch finds out at its next mark or, at the latest, renewal
        claim.accepted(second)
        claim.renew()
    claim.journal.close()
    assert statuses(mailing_id) == {"sent": 1, "queued": 2}
