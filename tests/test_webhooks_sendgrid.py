"""`POST /webhooks/sendgrid`: SendGrid's Event Webhook, signed with ECDSA, after a real mailing through the relay.

The events are SendGrid's documented examples (the Event Webhook reference, "Delivery events" and "Engagement
events"), with our addresses, our ids and one sg_event_id each."""

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .provider_mail import FIRST, SECOND, STRANGER, Drive

KEY = ec.generate_private_key(ec.SECP256R1())
# As SendGrid's console shows the verification key: base64 of the DER SubjectPublicKeyInfo.
PUBLIC_KEY = base64.b64encode(KEY.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()
NOTHING = {"recorded": 0, "duplicate": 0, "unknown": 0}


def documented(event: str, **fields) -> dict:
    """One event as the reference shows it (its common fields), made ours by `fields`."""
    example = {
        "email": "example@test.com",
        "timestamp": 1513299569,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "event": event,
        "category": "cat facts",
        "sg_event_id": f"{event}-rbtnWrG1DVDGGGFHFyun0A==",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
    }
    extra = {
        "deferred": {"response": "400 try again later", "attempt": "5"},
        "delivered": {"response": "250 OK"},
        "bounce": {
            "bounce_classification": "Invalid Address",
            "reason": "500 unknown recipient",
            "status": "5.0.0",
            "type": "bounce",
        },
        "dropped": {"reason": "Bounced Address", "status": "5.0.0"},
        "open": {
            "useragent": "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)",
            "ip": "255.255.255.255",
        },
        "group_unsubscribe": {
            "useragent": "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP)",
            "ip": "255.255.255.255",
            "url": "http://www.sendgrid.com/",
            "asm_group_id": 10,
        },
    }
    return {**example, **extra.get(event, {}), **fields}


def signed(events, *, key=KEY, at: float | None = None, body: bytes | None = None) -> dict:
    """The request SendGrid makes: the body, its ECDSA signature over timestamp + body, and the timestamp."""
    body = json.dumps(events).encode() if body is None else body
    timestamp = str(int(time.time() if at is None else at))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "data": body,
        "content_type": "application/json",
        "headers": {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    }


@pytest.fixture
def drive(app, client, relay, run_jobs):
    return Drive(app, client, relay, run_jobs, {"SENDGRID_WEBHOOK_PUBLIC_KEY": PUBLIC_KEY})


def post(client, events=None, **request):
    return client.post("/webhooks/sendgrid", **(request or signed(events)))


def ours(drive, address=FIRST, **fields) -> dict:
    """What the service attached to that email for SendGrid (X-SMTPAPI unique_args), as SendGrid echoes it."""
    return {"email": address, **drive.header_json("X-SMTPAPI", address)["unique_args"], **fields}


def test_a_signed_bounce_stops_the_mail_and_counts_for_its_email(drive, client):
    # The reference's batch: only the bounce means anything to the service.
    batch = [documented(name, **ours(drive)) for name in ("processed", "deferred", "delivered", "open", "bounce")]
    answer = post(client, batch)
    assert answer.status_code == 200 and answer.json == {**NOTHING, "recorded": 1}
    assert drive.statuses() == {FIRST: "bounced", SECOND: "subscribed"}
    assert drive.stats()["bounced"] == 1
    assert drive.next_mailing_recipients() == [SECOND]


def test_an_event_names_its_email_by_our_message_id_or_by_the_address(drive, client):
    by_message_id = documented("spamreport", email="someone@else.example", **{"smtp-id": drive.message_id(SECOND)})
    by_address = documented("bounce", email=FIRST)  # SendGrid's own smtp-id: only the address names it
    assert post(client, [by_message_id, by_address]).json == {**NOTHING, "recorded": 2}
    assert drive.statuses() == {FIRST: "bounced", SECOND: "complained"}
    assert drive.stats()["bounced"] == 1  # FIRST's bounce found its email: the latest to that address
    assert drive.next_mailing_recipients() == []


def test_unsubscribes_unsubscribe_and_count_once_for_the_email(drive, client):
    events = [documented("unsubscribe", **ours(drive)), documented("group_unsubscribe", **ours(drive))]
    assert post(client, events).json == {**NOTHING, "recorded": 2}
    assert drive.statuses() == {FIRST: "unsubscribed", SECOND: "subscribed"}
    assert drive.stats()["unsubscribed"] == 1
    assert drive.next_mailing_recipients() == [SECOND]


def test_the_same_event_twice_counts_once(drive, client):
    bounce = documented("bounce", **ours(drive))
    assert post(client, [bounce]).json == {**NOTHING, "recorded": 1}
    assert post(client, [bounce]).json == {**NOTHING, "duplicate": 1}
    assert drive.stats()["bounced"] == 1
    # A block is a soft bounce; the third soft bounce stops the mail, so three deliveries of one would.
    block = documented("bounce", type="blocked", bounce_classification="Technical", **ours(drive, SECOND))
    for _ in range(3):
        post(client, [block])
    assert drive.statuses()[SECOND] == "subscribed"


def test_what_says_nothing_against_the_address_is_no_hard_bounce(drive, client):
    events = [
        documented("dropped", **ours(drive)),  # already on SendGrid's bounce list: reported when it bounced
        documented("deferred", **ours(drive)),  # SendGrid is still trying
        documented("bounce", bounce_classification="Reputation", reason="550 5.7.1 sender blocked", **ours(drive)),
    ]
    assert post(client, events).json == {**NOTHING, "recorded": 1}  # the reputation bounce, as a soft one
    assert drive.statuses() == {FIRST: "subscribed", SECOND: "subscribed"}
    assert drive.stats()["bounced"] == 0
    invalid = documented("dropped", reason="Invalid", sg_event_id="dropped-invalid", **ours(drive))
    assert post(client, [invalid]).json == {**NOTHING, "recorded": 1}
    assert drive.statuses()[FIRST] == "bounced"


def test_an_event_about_an_address_never_mailed_changes_nothing(drive, client):
    before = drive.snapshot()
    assert post(client, [documented("bounce", email=STRANGER)]).json == {**NOTHING, "unknown": 1}
    assert drive.snapshot() == before


def test_forged_stale_unsigned_and_unset_requests_change_nothing(app, drive, client):
    before = drive.snapshot()
    events = [documented("bounce", **ours(drive))]
    other_key = ec.generate_private_key(ec.SECP256R1())
    tampered = signed(events)
    tampered["data"] = json.dumps([documented("bounce", **ours(drive, SECOND))]).encode()
    bad_signature = signed(events)
    bad_signature["headers"]["X-Twilio-Email-Event-Webhook-Signature"] = "not base64!"
    refused = {
        "another key": signed(events, key=other_key),
        "a changed body": tampered,
        "a signature that is not base64": bad_signature,
        "a day and two hours old (past SendGrid's 24 hours of retries)": signed(events, at=time.time() - 26 * 3600),
        "eleven minutes ahead": signed(events, at=time.time() + 660),
        "unsigned": {"data": json.dumps(events), "content_type": "application/json"},
    }
    for name, request in refused.items():
        answer = post(client, **request)
        assert answer.status_code == 403, name
        assert "error" in answer.json
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = None
    assert post(client, events).status_code == 401
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = "not a key"
    assert post(client, events).status_code == 401
    assert drive.snapshot() == before


def test_a_malformed_body_answers_400_and_records_nothing(drive, client):
    before = drive.snapshot()
    good = documented("bounce", **ours(drive))
    malformed = {
        "not JSON": b'[{"event": ',
        "not UTF-8": b"\xff\xfe[]",
        "NaN": b'[{"event": NaN}]',
        "an object, not a list": json.dumps(good).encode(),
        "an event that is not an object": json.dumps([good, "bounce"]).encode(),
        "an event with no name": json.dumps([good, {"email": FIRST}]).encode(),
        "a name that is not text": json.dumps([good, {**good, "event": ["bounce"]}]).encode(),
        "a huge address": json.dumps([good, {**good, "sg_event_id": "x", "email": "a" * 100_000}]).encode(),
        "a huge message id": json.dumps([good, {**good, "sg_event_id": "x", "smtp-id": "<" + "a" * 100_000}]).encode(),
    }
    for name, body in malformed.items():
        answer = post(client, **signed(None, body=body))
        assert answer.status_code == 400, name
    assert drive.snapshot() == before


def test_a_retry_hours_after_the_first_try_still_counts(drive, client):
    # SendGrid retries for 24 hours with the signature of its first try: a short window would lose the event.
    answer = post(client, **signed([documented("bounce", **ours(drive))], at=time.time() - 5 * 3600))
    assert answer.json == {**NOTHING, "recorded": 1}
    assert drive.statuses()[FIRST] == "bounced"
