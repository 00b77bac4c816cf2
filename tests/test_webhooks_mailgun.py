"""`POST /webhooks/mailgun`: Mailgun's JSON webhooks, signed with HMAC-SHA256 of timestamp + token, after a real
mailing through the relay.

The events are Mailgun's documented examples (the "Webhook Payloads" of its user manual: permanent failure,
temporary failure, spam complaint, unsubscribe), with our addresses and ids, each signed afresh."""

import copy
import hashlib
import hmac
import secrets
import time

import pytest
from redis import Redis

from .conftest import free_port
from .provider_mail import FIRST, SECOND, STRANGER, Drive

KEY = "key-" + secrets.token_hex(16)  # the domain's HTTP webhook signing key
NOTHING = {"recorded": 0, "duplicate": 0, "unknown": 0}
SANDBOX = "sandbox1a4a5d1f1c5d4b5da5e0e1c2d8c1d9a0.mailgun.org"

PERMANENT = {
    "event": "failed",
    "id": "G9Bn5sl1TC6nu79C8C0bwg",
    "timestamp": 1521233195.375624,
    "log-level": "error",
    "severity": "permanent",
    "reason": "suppress-bounce",
    "envelope": {"sender": f"bob@{SANDBOX}", "transport": "smtp", "targets": "alice@example.com"},
    "flags": {"is-routed": False, "is-authenticated": True, "is-system-test": False, "is-test-mode": False},
    "delivery-status": {
        "attempt-no": 1,
        "message": "",
        "code": 605,
        "description": "Not delivering to previously bounced address",
        "session-seconds": 0.0,
    },
    "message": {
        "headers": {
            "to": "Alice <alice@example.com>",
            "message-id": f"20130503192659.13651.20287@{SANDBOX}",
            "from": f"Bob <bob@{SANDBOX}>",
            "subject": "Test permanent_fail webhook",
        },
        "attachments": [],
        "size": 111,
    },
    "recipient": "alice@example.com",
    "recipient-domain": "example.com",
    "storage": {"url": f"https://se.api.mailgun.net/v3/domains/{SANDBOX}/messages/message_key", "key": "message_key"},
    "campaigns": [],
    "tags": ["my_tag_1", "my_tag_2"],
    "user-variables": {"my_var_1": "Mailgun Variable #1", "my-var-2": "awesome"},
}
TEMPORARY = {
    **PERMANENT,
    "id": "Fs7-5t81S2ms-j8nXwJwNA",
    "log-level": "warn",
    "severity": "temporary",
    "reason": "generic",
    "delivery-status": {
        "attempt-no": 1,
        "message": "4.2.2 The email account that you tried to reach is over quota.",
        "code": 452,
        "description": "",
        "session-seconds": 1.1,
        "retry-seconds": 600,
    },
}
COMPLAINED = {
    "event": "complained",
    "id": "-Agny091SquKnsrW2NEKUA",
    "timestamp": 1521233123.501324,
    "log-level": "warn",
    "envelope": {"sending-ip": "173.193.210.33"},
    "flags": {"is-test-mode": False},
    "message": {
        "headers": {
            "to": "Alice <alice@example.com>",
            "message-id": f"20110215055645.25246.63817@{SANDBOX}",
            "from": f"Bob <bob@{SANDBOX}>",
            "subject": "Test complained webhook",
        },
        "attachments": [],
        "size": 111,
    },
    "recipient": "alice@example.com",
    "campaigns": [],
    "tags": ["my_tag_1", "my_tag_2"],
    "user-variables": {"my_var_1": "Mailgun Variable #1", "my-var-2": "awesome"},
}
UNSUBSCRIBED = {
    "event": "unsubscribed",
    "id": "Ns8rBYAcSfyYdpqsHWP8PA",
    "timestamp": 1521233195.375624,
    "log-level": "info",
    "recipient": "alice@example.com",
    "geolocation": {"country": "US", "region": "CA", "city": "San Francisco"},
    "tags": ["my_tag_1", "my_tag_2"],
    "ip": "50.56.129.169",
    "client-info": {
        "client-os": "Linux",
        "device-type": "desktop",
        "client-name": "Chrome",
        "client-type": "browser",
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.31 (KHTML, like Gecko)",
    },
    "message": {"headers": {"message-id": f"20130503182626.18666.16540@{SANDBOX}"}},
    "user-variables": {"my_var_1": "Mailgun Variable #1", "my-var-2": "awesome"},
}


def signed(event_data, *, key=KEY, at: float | None = None, token: str | None = None) -> dict:
    """The body Mailgun posts: its signature (HMAC-SHA256 of timestamp + token) beside the event."""
    timestamp, token = str(int(time.time() if at is None else at)), token or secrets.token_hex(25)
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": timestamp, "token": token, "signature": digest}, "event-data": event_data}


def made_ours(example: dict, drive, address=FIRST, *, tagged=True, **fields) -> dict:
    """The example about `address`, carrying what the service attached to its email (X-Mailgun-Variables)."""
    event = copy.deepcopy(example)
    event["recipient"] = address
    if tagged:
        event["user-variables"].update(drive.header_json("X-Mailgun-Variables", address))
    return {**event, **fields}


@pytest.fixture
def drive(app, client, relay, run_jobs):
    return Drive(app, client, relay, run_jobs, {"MAILGUN_WEBHOOK_SIGNING_KEY": KEY})


def post(client, body):
    return client.post("/webhooks/mailgun", json=body)


def test_a_signed_permanent_failure_stops_the_mail_and_counts_for_its_email(drive, client):
    bounce = made_ours(PERMANENT, drive, reason="bounce")
    bounce["delivery-status"].update(
        code=550, message="5.1.1 The email account that you tried to reach does not exist."
    )
    answer = post(client, signed(bounce))
    assert answer.status_code == 200 and answer.json == {**NOTHING, "recorded": 1}
    assert drive.statuses() == {FIRST: "bounced", SECOND: "subscribed"}
    assert drive.stats()["bounced"] == 1
    assert drive.next_mailing_recipients() == [SECOND]


def test_a_failure_for_an_address_mailgun_suppresses_is_no_new_bounce(drive, client):
    # The documented example as it stands: reason suppress-bounce, Mailgun did not try.
    assert post(client, signed(made_ours(PERMANENT, drive))).json == NOTHING
    assert drive.statuses() == {FIRST: "subscribed", SECOND: "subscribed"}


def test_an_event_names_its_email_by_our_message_id_or_by_the_address(drive, client):
    complaint = made_ours(COMPLAINED, drive, SECOND, tagged=False)
    complaint["message"]["headers"]["message-id"] = drive.message_id(SECOND).strip("<>")  # as Mailgun echoes it
    assert post(client, signed(complaint)).json == {**NOTHING, "recorded": 1}
    by_address = made_ours(PERMANENT, drive, tagged=False, reason="bounce")  # Mailgun's own message-id
    assert post(client, signed(by_address)).json == {**NOTHING, "recorded": 1}
    assert drive.statuses() == {FIRST: "bounced", SECOND: "complained"}
    assert drive.stats()["bounced"] == 1
    assert drive.next_mailing_recipients() == []


def test_an_unsubscribe_unsubscribes_and_counts_once(drive, client):
    assert post(client, signed(made_ours(UNSUBSCRIBED, drive))).json == {**NOTHING, "recorded": 1}
    again = made_ours(UNSUBSCRIBED, drive, id="another-unsubscribe-click")
    assert post(client, signed(again)).json == {**NOTHING, "recorded": 1}
    assert drive.statuses() == {FIRST: "unsubscribed", SECOND: "subscribed"}
    assert drive.stats()["unsubscribed"] == 1
    assert drive.next_mailing_recipients() == [SECOND]


def test_the_same_event_twice_counts_once(drive, client):
    bounce = made_ours(PERMANENT, drive, reason="bounce")
    assert post(client, signed(bounce)).json == {**NOTHING, "recorded": 1}
    assert post(client, signed(bounce)).json == {**NOTHING, "duplicate": 1}  # sent again, signed again
    assert drive.stats()["bounced"] == 1
    # Mailgun reports each attempt at a temporary failure; three soft bounces would stop the mail.
    attempts = [made_ours(TEMPORARY, drive, SECOND, id=f"attempt-{n}") for n in range(3)]
    answers = [post(client, signed(attempt)).json for attempt in attempts]
    assert answers == [{**NOTHING, "recorded": 1}, {**NOTHING, "duplicate": 1}, {**NOTHING, "duplicate": 1}]
    assert drive.statuses()[SECOND] == "subscribed"


def test_an_event_about_an_address_never_mailed_changes_nothing(drive, client):
    before = drive.snapshot()
    stranger = made_ours(PERMANENT, drive, STRANGER, tagged=False, reason="bounce")
    assert post(client, signed(stranger)).json == {**NOTHING, "unknown": 1}
    assert drive.snapshot() == before


def test_forged_stale_replayed_unsigned_and_unset_requests_change_nothing(app, drive, client):
    bounce = made_ours(PERMANENT, drive, reason="bounce")
    before = drive.snapshot()
    forged = signed(bounce)
    forged["signature"]["signature"] = signed(
        bounce, key="key-guessed", at=int(forged["signature"]["timestamp"]), token=forged["signature"]["token"]
    )["signature"]["signature"]
    refused = {
        "signed with another key": forged,
        "ten hours old (past Mailgun's 8 hours of retries)": signed(bounce, at=time.time() - 10 * 3600),
        "eleven minutes ahead": signed(bounce, at=time.time() + 660),
        "without a signature": {"event-data": bounce},
        "a signature that is not an object": {"signature": "d2271d12299f6592", "event-data": bounce},
        "a signature without its token": {**forged, "signature": {**forged["signature"], "token": None}},
    }
    for name, body in refused.items():
        answer = post(client, body)
        assert answer.status_code == 403, name
    # A good signature used again for another event: a captured signature carries nothing else.
    once = signed(made_ours(UNSUBSCRIBED, drive))
    assert post(client, once).status_code == 200
    replay = {**once, "event-data": bounce}
    assert post(client, replay).status_code == 403
    before = (before[0] | {FIRST: "unsubscribed"}, before[1] | {"unsubscribed": 1})
    app.config["MAILGUN_WEBHOOK_SIGNING_KEY"] = None
    assert post(client, signed(bounce)).status_code == 401
    assert drive.snapshot() == before


def test_without_redis_nothing_is_taken_and_mailgun_is_told_to_try_again(app, drive, client):
    # The signature does not cover the event: without Redis a captured one could carry any event, so none is taken.
    bounce = made_ours(PERMANENT, drive, reason="bounce")
    reachable = app.extensions["mobilise.redis"]
    app.extensions["mobilise.redis"] = Redis(port=free_port(), socket_connect_timeout=1)  # nothing listens there
    try:
        assert post(client, signed(bounce, at=time.time() - 10 * 3600)).status_code == 403
        body = signed(bounce)
        assert post(client, body).status_code == 503
        assert drive.statuses()[FIRST] == "subscribed"
    finally:
        app.extensions["mobilise.redis"] = reachable
    assert post(client, body).json == {**NOTHING, "recorded": 1}  # Mailgun's retry, once Redis is back
    assert drive.statuses()[FIRST] == "bounced"


def test_a_retry_of_the_same_request_after_a_failed_write_is_recorded(drive, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from mobilise.deliverability import webhooks

    body = signed(made_ours(PERMANENT, drive, reason="bounce"))  # Mailgun resends the same body, signature and all
    real, calls = webhooks.record, []

    def locked_the_first_time(report):
        calls.append(report)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(report)

    monkeypatch.setattr(webhooks, "record", locked_the_first_time)
    with pytest.raises(OperationalError):
        post(client, body)
    assert post(client, body).json == {**NOTHING, "recorded": 1}
    assert post(client, body).json == {**NOTHING, "duplicate": 1}
    assert drive.statuses()[FIRST] == "bounced"


def test_a_malformed_body_answers_400_and_records_nothing(drive, client):
    before = drive.snapshot()
    bounce = made_ours(PERMANENT, drive, reason="bounce")
    malformed = {
        "not JSON": b'{"signature": ',
        "a list": b"[]",
    }
    for name, body in malformed.items():
        assert client.post("/webhooks/mailgun", data=body, content_type="application/json").status_code == 400, name
    signed_but_malformed = {
        "no event": signed(None) | {"event-data": "failed"},
        "an event with no name": signed({**bounce, "event": None}),
        "a name that is not text": signed({**bounce, "event": {"failed": True}}),
        "no id": signed({**bounce, "id": None}),
        "headers that are a list": signed({**bounce, "message": {"headers": ["message-id"]}}),
        "a huge recipient": signed({**bounce, "recipient": "a" * 100_000 + "@example.com"}),
        "a huge id": signed({**bounce, "id": "G" * 100_000}),
    }
    for name, body in signed_but_malformed.items():
        assert post(client, body).status_code == 400, name
    assert drive.snapshot() == before


def test_a_retry_hours_after_the_first_try_still_counts(drive, client):
    # Mailgun retries for 8 hours with the signature of its first try: a short window would lose the event.
    body = signed(made_ours(PERMANENT, drive, reason="bounce"), at=time.time() - 5 * 3600)
    assert post(client, body).json == {**NOTHING, "recorded": 1}
    assert post(client, body).json == {**NOTHING, "duplicate": 1}
    assert drive.statuses()[FIRST] == "bounced"
