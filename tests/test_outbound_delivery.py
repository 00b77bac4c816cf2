"""Webhooks out, end to end: each event from the supporter's own path, POSTed to a real receiver on loopback,
signed as Standard Webhooks says, retried after a failure, disabled after a day of them, recovered by the tick."""

import time
from datetime import timedelta

import pytest

from mobilise.clock import utcnow
from mobilise.extensions import db
from mobilise.models import Supporter
from mobilise.outbound.delivery import deliver, next_delay
from mobilise.outbound.models import EVENTS, WebhookDelivery
from mobilise.outbound.outbox import emit
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .webhook_receiver import Receiver, links_of, verify

PERSON = "person0@gb.example.net"


@pytest.fixture
def receiver(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver is on loopback
    with Receiver() as server:
        yield server


@pytest.fixture
def sent(app, relay, run_jobs):
    """GB's launch email sent to two supporters, and a manager's API token."""
    office = make_office()
    make_supporters(office, 2)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    return {"office": office, "manager": token_for("manager@uk.example.org", office="GB", role="manager")}


def register(client, sent, receiver, events=EVENTS) -> dict:
    answer = client.post(
        "/api/v1/offices/GB/webhooks",
        json={"url": receiver.url, "events": list(events)},
        headers=bearer(sent["manager"]),
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def test_an_action_is_posted_once_signed_with_the_secret(client, relay, run_jobs, sent, receiver):
    hook = register(client, sent, receiver)
    act = links_of(relay, PERSON)["act"]
    assert client.post(act).status_code == 200
    run_jobs()
    assert len(receiver.received) == 1
    request = receiver.received[0]
    payload = verify(hook["secret"], request)
    assert payload.pop("at").endswith("Z")
    assert payload == {"type": "action.created", "office": "GB", "case": "UA 53/25", "supporter": {"email": PERSON}}
    assert request.path == "/hooks/mobilise"
    assert request.headers["content-type"] == "application/json"
    assert "Mobilise" in request.headers["user-agent"]
    assert request.headers["webhook-id"].startswith("msg_")

    client.post(act)  # the same action again: no second fact, no second event
    run_jobs(tick=True)
    assert len(receiver.received) == 1
    assert [(d.status, d.attempts, d.last_status_code) for d in deliveries()] == [("delivered", 1, 204)]


def test_unsubscribe_bounce_and_complaint_each_reach_the_receivers_that_asked(client, relay, run_jobs, sent, receiver):
    everything = register(client, sent, receiver)
    with Receiver() as actions_only:
        register(client, sent, actions_only, events=["action.created"])
        links = links_of(relay, PERSON)
        form = {"data": "List-Unsubscribe=One-Click", "content_type": "application/x-www-form-urlencoded"}
        assert client.post(links["unsubscribe"], **form).status_code == 200
        client.post(links["unsubscribe"], **form)  # already unsubscribed: nothing new happened
        other = next(m for m in relay.messages() if m["To"] == "person1@gb.example.net")["Message-ID"]
        admin = token_for("admin@example.org", admin=True)
        for kind in ("complaint", "hard"):
            reported = client.post(
                "/api/v1/events/bounces", headers=bearer(admin), json={"message_id": other, "type": kind}
            )
            assert reported.status_code == 200
        run_jobs()
        assert actions_only.received == []
    got = [verify(everything["secret"], request) for request in receiver.received]
    assert [(p["type"], p["supporter"]["email"], p.get("case")) for p in got] == [
        ("supporter.unsubscribed", PERSON, "UA 53/25"),
        ("supporter.complained", "person1@gb.example.net", "UA 53/25"),
    ]  # the hard bounce after the complaint stops nothing more: no event


def test_a_hard_bounce_is_posted(client, relay, run_jobs, sent, receiver):
    hook = register(client, sent, receiver, events=["supporter.bounced"])
    message_id = next(m for m in relay.messages() if m["To"] == PERSON)["Message-ID"]
    admin = token_for("admin@example.org", admin=True)
    client.post("/api/v1/events/bounces", headers=bearer(admin), json={"message_id": message_id, "type": "hard"})
    run_jobs()
    payload = verify(hook["secret"], receiver.received[0])
    assert (payload["type"], payload["supporter"], payload["case"]) == (
        "supporter.bounced",
        {"email": PERSON},
        "UA 53/25",
    )


def test_after_a_500_it_is_tried_again_and_delivered_once_with_the_same_id(client, relay, run_jobs, sent, receiver):
    hook = register(client, sent, receiver)
    receiver.fail = 1
    client.post(links_of(relay, PERSON)["act"])
    before = utcnow()
    run_jobs()
    after = utcnow()
    [failed] = deliveries()
    assert (failed.status, failed.attempts, failed.last_status_code, failed.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    # The first wait: 5 s ± 10 %, from the try.
    assert before + timedelta(seconds=4.5) <= failed.next_attempt_at <= after + timedelta(seconds=5.5)
    run_jobs(tick=True)  # not due yet
    assert len(receiver.received) == 1
    time.sleep(max((failed.next_attempt_at - utcnow()).total_seconds(), 0) + 0.2)
    run_jobs(tick=True)
    run_jobs(tick=True)
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
    verify(hook["secret"], second)
    [done] = deliveries()
    assert (done.status, done.attempts, done.last_status_code, done.last_error) == ("delivered", 2, 204, None)
    assert done.endpoint.failing_since is None


def test_a_receiver_failing_for_a_day_is_disabled_with_its_reason(client, relay, run_jobs, sent, receiver):
    hook = register(client, sent, receiver)
    receiver.always_fail = True
    links = links_of(relay, PERSON)
    client.post(links["act"])
    run_jobs()
    [delivery] = deliveries()
    assert delivery.endpoint.failing_since is not None and delivery.endpoint.enabled
    assert deliver(delivery.id, at=utcnow() + timedelta(hours=25)).endswith("disabled")  # a day of failures later
    [delivery] = deliveries()
    assert (delivery.status, delivery.attempts) == ("failed", 2)

    listed = client.get("/api/v1/offices/GB/webhooks", headers=bearer(sent["manager"])).json
    assert listed[0]["enabled"] is False
    assert listed[0]["disabled_reason"].startswith("failing since ") and listed[0]["disabled_reason"].endswith(
        ": HTTP 500"
    )
    assert listed[0]["deliveries"] == {"pending": 0, "delivered": 0, "failed": 1}
    from .test_console import sign_in

    sign_in(client, "manager@uk.example.org")
    page = client.get("/console/webhooks").get_data(as_text=True)
    assert "disabled" in page and listed[0]["disabled_reason"] in page

    client.post(links["unsubscribe"])  # while disabled: no delivery made
    assert db.session.scalar(db.select(Supporter.status).where(Supporter.email == PERSON)) == "unsubscribed"
    assert len(deliveries()) == 1
    receiver.always_fail = False
    enabled = client.post(f"/api/v1/offices/GB/webhooks/{hook['id']}/enable", headers=bearer(sent["manager"]))
    assert enabled.status_code == 200 and enabled.json["enabled"] is True and enabled.json["disabled_reason"] is None
    run_jobs(tick=True)
    assert len(receiver.received) == 2  # the failed one is not resent


def test_a_delivery_lost_with_redis_is_queued_again_by_the_tick_and_delivered_once(
    client, relay, run_jobs, sent, receiver, redis_client
):
    register(client, sent, receiver)
    client.post(links_of(relay, PERSON)["act"])
    redis_client.flushdb()  # the job enqueued after the commit is gone
    run_jobs()
    assert receiver.received == []
    run_jobs(tick=True)
    run_jobs(tick=True)
    assert len(receiver.received) == 1
    assert [d.status for d in deliveries()] == ["delivered"]


def test_an_act_that_rolls_back_leaves_no_event(app, run_jobs, sent, receiver, client):
    register(client, sent, receiver)
    emit(sent["office"].id, "action.created", PERSON, case="UA 53/25")
    db.session.rollback()
    run_jobs(tick=True)
    assert deliveries() == [] and receiver.received == []


def test_erasing_a_supporter_takes_their_address_out_of_the_outbox(client, relay, run_jobs, sent, receiver):
    register(client, sent, receiver)
    links = links_of(relay, PERSON)
    client.post(links["act"])
    run_jobs()
    receiver.always_fail = True
    client.post(links["unsubscribe"])
    run_jobs()
    assert [d.status for d in deliveries()] == ["delivered", "pending"]
    erased = client.post("/api/v1/offices/GB/supporters/erase", json={"email": PERSON}, headers=bearer(sent["manager"]))
    assert erased.status_code == 200
    [kept] = deliveries()  # the one not delivered is gone: it will not be sent
    assert kept.status == "delivered" and kept.payload["supporter"] == {"email": None} and kept.email_digest is None
    assert PERSON not in str(db.session.execute(db.text("SELECT payload FROM webhook_deliveries")).all())


def test_the_waits_follow_the_standard_webhooks_schedule_each_with_jitter():
    schedule = {1: 5, 2: 300, 3: 1800, 4: 7200, 5: 18000, 6: 36000, 7: 36000, 30: 36000}  # then every 10 h
    for attempts, seconds in schedule.items():
        waits = {next_delay(attempts).total_seconds() for _ in range(50)}
        assert all(seconds * 0.9 <= wait <= seconds * 1.1 for wait in waits) and len(waits) > 1


def test_a_receiver_trickling_its_answer_is_cut_off_and_the_try_still_counts(
    client, relay, run_jobs, sent, receiver, monkeypatch
):
    monkeypatch.setattr("mobilise.outbound.outbox.TRY_SECONDS", 2)  # RQ stops the job then, as it would at 30 s
    register(client, sent, receiver)
    receiver.trickle = True
    started = utcnow()
    client.post(links_of(relay, PERSON)["act"])
    run_jobs()  # the try never gets a whole answer: the job is stopped, the worker free again
    assert (utcnow() - started).total_seconds() < 20
    [delivery] = deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "the try did not finish")
    assert delivery.next_attempt_at >= started + timedelta(seconds=55)  # backed off: not tried again at once
    assert delivery.endpoint.failing_since is not None
    run_jobs(tick=True)  # the tick does not hand it out again before its time
    assert len(receiver.received) == 1
    # A day on, the next try finds the last one never finished: the receiver is disabled, saying why.
    assert deliver(delivery.id, at=utcnow() + timedelta(hours=25)).endswith("disabled")
    [delivery] = deliveries()
    assert delivery.status == "failed" and delivery.endpoint.enabled is False
    assert delivery.endpoint.disabled_reason.endswith(": the try did not finish")
