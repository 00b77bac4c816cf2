"""Webhooks out from the other ways the same facts arrive: a visitor of the case page who joins and acts, mail
to an email's unsubscribe address (`flask inbound`), a relay's refusal at sending; and the log's 30 days."""

import re
from datetime import timedelta

import pytest

from mobilise.clock import utcnow
from mobilise.deliverability.inbound import Mailbox, receive
from mobilise.extensions import db
from mobilise.models import Delivery, Supporter
from mobilise.outbound.models import WebhookDelivery
from mobilise.outbound.outbox import emit
from mobilise.sending.tick import tick
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .webhook_receiver import Receiver, verify

LINK = re.compile(r"http://mobilise\.test(/cases/[^/\s]+/actions/[A-Za-z0-9._-]+)")


@pytest.fixture
def hook(app, client):
    """GB with a receiver of every event on loopback: (receiver, its secret, the office)."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    office = make_office()
    manager = token_for("manager@uk.example.org", office="GB", role="manager")
    with Receiver() as receiver:
        answer = client.post(
            "/api/v1/offices/GB/webhooks",
            headers=bearer(manager),
            json={
                "url": receiver.url,
                "events": ["action.created", "supporter.unsubscribed", "supporter.bounced", "supporter.complained"],
            },
        )
        yield receiver, answer.json["secret"], office


def test_a_visitor_who_joins_and_confirms_is_one_action_created(client, relay, run_jobs, hook):
    receiver, secret, office = hook
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    answer = client.post(
        f"/cases/{case.slug}/actions?office=GB",
        data={"email": "visitor@example.org", "join": "yes"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    assert answer.status_code == 202
    run_jobs()
    message = next(m for m in relay.messages() if m["To"] == "visitor@example.org")
    link = LINK.search(message.get_body(("plain",)).get_content()).group(1)
    assert client.post(link).status_code == 200
    client.post(link)  # a second tap
    run_jobs()
    assert [verify(secret, r)["type"] for r in receiver.received] == ["action.created"]
    payload = receiver.received[0].json()
    assert (payload["supporter"], payload["case"]) == ({"email": "visitor@example.org"}, "UA 53/25")


def test_mail_to_the_unsubscribe_address_is_one_unsubscribed(app, relay, run_jobs, hook):
    receiver, secret, office = hook
    make_supporters(office, 1)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    delivery = db.session.scalar(db.select(Delivery))
    for _ in range(2):  # the same request mailed twice
        receive(Mailbox("unsubscribe", delivery.id), "unsubscribe+t@inbound.example.org", b"Subject: stop\n\nstop")
    run_jobs()
    [request] = receiver.received
    assert verify(secret, request)["type"] == "supporter.unsubscribed"
    assert request.json()["supporter"] == {"email": "person0@gb.example.net"}


def test_a_relay_refusing_the_address_at_sending_is_one_bounced(app, relay, run_jobs, hook):
    receiver, secret, office = hook
    make_supporters(office, 2)
    relay.refuse["person1@gb.example.net"] = "550 5.1.1 no such user"
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    run_jobs()
    assert (
        db.session.scalar(db.select(Supporter.status).where(Supporter.email == "person1@gb.example.net")) == "bounced"
    )
    [request] = receiver.received
    assert verify(secret, request) | {"at": None} == {
        "type": "supporter.bounced",
        "office": "GB",
        "case": "UA 53/25",
        "supporter": {"email": "person1@gb.example.net"},
        "at": None,
    }


def test_the_log_keeps_30_days(app, run_jobs, hook):
    office = hook[2]
    emit(office.id, "supporter.unsubscribed", "someone@example.net")
    db.session.commit()
    run_jobs()
    tick(utcnow() + timedelta(days=29))
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 1
    tick(utcnow() + timedelta(days=31))
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0
