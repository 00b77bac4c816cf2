"""Webhooks out through the API and the console: who may register them, the SSRF rules, the limits, another
office's webhook unseen, deletion, and the page a manager reads."""

import pytest

from mobilise.extensions import db
from mobilise.outbound.delivery import deliver
from mobilise.outbound.models import WebhookDelivery
from mobilise.outbound.outbox import emit

from .builders import bearer, make_office, token_for
from .test_console import SPAIN, csrf_from, sign_in
from .webhook_receiver import Receiver

HOOKS = "/api/v1/offices/GB/webhooks"
EVENTS = ["action.created", "supporter.unsubscribed"]


@pytest.fixture
def offices(app):
    gb, es = make_office(), make_office(**SPAIN)
    return {
        "gb": gb,
        "es": es,
        "manager": token_for("manager@uk.example.org", office="GB", role="manager"),
        "es_manager": token_for("manager@es.example.org", office="ES", role="manager"),
    }


@pytest.fixture
def private(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True


def add(client, token, url="https://127.0.0.1/hook", events=EVENTS, code="GB"):
    return client.post(f"/api/v1/offices/{code}/webhooks", json={"url": url, "events": events}, headers=bearer(token))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.7/hook",
        "https://192.168.1.2/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "http://93.184.215.14/hook",
    ],
)
def test_a_private_or_plain_http_url_answers_422_naming_the_field(client, offices, url):
    answer = add(client, offices["manager"], url=url)
    assert answer.status_code == 422
    assert answer.json["details"][0]["field"] == "url"
    assert client.get(HOOKS, headers=bearer(offices["manager"])).json == []


def test_with_private_addresses_allowed_a_loopback_receiver_is_registered(client, offices, private):
    answer = add(client, offices["manager"], url="http://127.0.0.1:9/hook")
    assert answer.status_code == 201
    assert answer.json["secret"].startswith("whsec_") and len(answer.json["secret"]) > 40
    assert answer.json["url"] == "http://127.0.0.1:9/hook" and answer.json["events"] == EVENTS
    [listed] = client.get(HOOKS, headers=bearer(offices["manager"])).json
    assert listed["id"] == answer.json["id"] and listed["enabled"] is True and "secret" not in listed
    assert listed["deliveries"] == {"pending": 0, "delivered": 0, "failed": 0}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "https://127.0.0.1/hook", "events": []}, "events"),
        ({"url": "https://127.0.0.1/hook", "events": ["supporter.created"]}, "events.0"),
        ({"url": "https://127.0.0.1/" + "a" * 2000, "events": EVENTS}, "url"),
        ({"url": "not a url", "events": EVENTS}, "url"),
        ({"events": EVENTS}, "url"),
    ],
)
def test_a_wrong_field_answers_422_naming_it(client, offices, private, body, field):
    answer = client.post(HOOKS, json=body, headers=bearer(offices["manager"]))
    assert answer.status_code == 422 and answer.json["details"][0]["field"] == field


def test_an_office_has_at_most_ten(client, offices, private):
    for n in range(10):
        assert add(client, offices["manager"], url=f"http://127.0.0.1:9/{n}").status_code == 201
    assert add(client, offices["manager"], url="http://127.0.0.1:9/11").status_code == 422


@pytest.mark.parametrize("role", ["campaigner", "viewer"])
def test_campaigners_and_viewers_get_403(client, offices, private, role):
    hook = add(client, offices["manager"]).json
    token = token_for(f"{role}@uk.example.org", office="GB", role=role)
    assert add(client, token).status_code == 403
    assert client.get(HOOKS, headers=bearer(token)).status_code == 403
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=bearer(token)).status_code == 403
    assert client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=bearer(token)).status_code == 403
    assert len(client.get(HOOKS, headers=bearer(offices["manager"])).json) == 1


def test_another_offices_webhook_answers_404(client, offices, private):
    hook = add(client, offices["manager"]).json
    spain = offices["es_manager"]
    assert client.get(HOOKS, headers=bearer(spain)).status_code == 404
    assert client.delete(f"/api/v1/offices/ES/webhooks/{hook['id']}", headers=bearer(spain)).status_code == 404
    assert client.get(f"/api/v1/offices/ES/webhooks/{hook['id']}/deliveries", headers=bearer(spain)).status_code == 404
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=bearer(spain)).status_code == 404
    assert client.post(f"/api/v1/offices/ES/webhooks/{hook['id']}/enable", headers=bearer(spain)).status_code == 404
    assert len(client.get(HOOKS, headers=bearer(offices["manager"])).json) == 1
    admin = token_for("admin@example.org", admin=True)
    assert len(client.get(HOOKS, headers=bearer(admin)).json) == 1  # an admin sees every office's


def test_deleting_a_webhook_drops_what_it_was_owed(app, client, offices, private, run_jobs):
    with Receiver() as receiver:
        hook = add(client, offices["manager"], url=receiver.url).json
        emit(offices["gb"].id, "action.created", "someone@example.net", case="UA 1/26")
        db.session.commit()
        assert client.delete(f"{HOOKS}/{hook['id']}", headers=bearer(offices["manager"])).status_code == 204
        run_jobs(tick=True)
        assert receiver.received == []
    assert client.get(HOOKS, headers=bearer(offices["manager"])).json == []
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0


def test_the_log_pages_newest_first(app, client, offices, private):
    hook = add(client, offices["manager"], url="http://127.0.0.1:9/hook").json
    for n in range(51):
        emit(offices["gb"].id, "supporter.unsubscribed", f"p{n}@example.net")
    db.session.commit()
    first = client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=bearer(offices["manager"])).json
    assert len(first["items"]) == 50 and first["more"] is True
    assert first["items"][0]["payload"]["supporter"]["email"] == "p50@example.net"
    second = client.get(f"{HOOKS}/{hook['id']}/deliveries?page=2", headers=bearer(offices["manager"])).json
    assert [i["payload"]["supporter"]["email"] for i in second["items"]] == ["p0@example.net"] and second[
        "more"
    ] is False


def test_at_delivery_a_host_now_private_fails_the_try_without_connecting(app, client, offices, private):
    with Receiver() as receiver:
        add(client, offices["manager"], url=receiver.url)
        [delivery] = emit(offices["gb"].id, "action.created", "someone@example.net")
        db.session.commit()
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
        assert deliver(delivery.id).startswith("retry at")
        assert receiver.received == []
    db.session.expire_all()
    delivery = db.session.get(WebhookDelivery, delivery.id)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error == "the host 127.0.0.1 is or resolves to a private address (127.0.0.1)"


def test_a_manager_adds_a_receiver_in_the_console_and_sees_its_secret_once(client, offices, private):
    sign_in(client, "manager@uk.example.org")
    page = client.get("/console/webhooks")
    assert page.status_code == 200 and 'href="/console/webhooks"' in page.get_data(as_text=True)
    added = client.post(
        "/console/webhooks",
        data={"url": "http://127.0.0.1:9/crm", "events": ["action.created"], "csrf_token": csrf_from(page)},
    )
    html = added.get_data(as_text=True)
    assert added.status_code == 201 and "whsec_" in html and "http://127.0.0.1:9/crm" in html
    assert "whsec_" not in client.get("/console/webhooks").get_data(as_text=True)
    [hook] = client.get(HOOKS, headers=bearer(offices["manager"])).json
    assert hook["events"] == ["action.created"]
    refused = client.post("/console/webhooks", data={"url": "http://127.0.0.1:9/crm", "csrf_token": csrf_from(page)})
    assert refused.status_code == 422 and 'id="events-error"' in refused.get_data(as_text=True)
    deleted = client.post(f"/console/webhooks/{hook['id']}/delete", data={"csrf_token": csrf_from(page)})
    assert deleted.status_code == 302
    assert client.get(HOOKS, headers=bearer(offices["manager"])).json == []


def test_without_its_csrf_token_the_console_form_changes_nothing(client, offices, private):
    sign_in(client, "manager@uk.example.org")
    answer = client.post("/console/webhooks", data={"url": "http://127.0.0.1:9/crm", "events": ["action.created"]})
    assert answer.status_code == 400
    assert client.get(HOOKS, headers=bearer(offices["manager"])).json == []


def test_a_campaigner_has_no_webhooks_page(client, offices):
    token_for("campaigner@uk.example.org", office="GB", role="campaigner")
    sign_in(client, "campaigner@uk.example.org")
    assert client.get("/console/webhooks").status_code == 403
    assert "/console/webhooks" not in client.get("/console").get_data(as_text=True)


def test_registering_deleting_and_enabling_a_receiver_are_audited_by_host_never_by_url(app, client, offices, private):
    from mobilise.models import AuditEntry
    from mobilise.outbound.models import WebhookEndpoint

    hook = add(client, offices["manager"], url="http://127.0.0.1:9/hook?key=crm-secret-key").json
    endpoint = db.session.get(WebhookEndpoint, hook["id"])
    endpoint.enabled, endpoint.disabled_reason = False, "failing since yesterday: HTTP 500"
    db.session.commit()
    assert client.post(f"{HOOKS}/{hook['id']}/enable", headers=bearer(offices["manager"])).status_code == 200
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=bearer(offices["manager"])).status_code == 204
    trail = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action.like("webhook.%")).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.subject, e.actor, e.office.code) for e in trail] == [
        (action, str(hook["id"]), "manager@uk.example.org", "GB")
        for action in ("webhook.created", "webhook.enabled", "webhook.deleted")
    ]
    assert all(e.details == {"host": "127.0.0.1", "events": EVENTS} for e in trail)
    refused = add(client, offices["manager"], url="http://127.0.0.1:9/hook", events=[])
    assert refused.status_code == 422
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(AuditEntry.action.like("webhook.%"))) == 3
