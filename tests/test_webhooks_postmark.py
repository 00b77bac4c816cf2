"""`POST /webhooks/postmark`: Postmark's webhooks behind HTTP basic auth, after a real mailing through the relay.

The records are Postmark's documented examples (the developer docs' bounce, spam complaint, subscription change
and delivery webhooks), with our addresses and ids."""

import base64
import copy

import pytest

from .provider_mail import FIRST, SECOND, STRANGER, Drive

USER, PASSWORD = "postmark", "a long random password"
NOTHING = {"recorded": 0, "duplicate": 0, "unknown": 0}

BOUNCE = {
    "RecordType": "Bounce",
    "MessageStream": "outbound",
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "Test",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Metadata": {"a_key": "a_value", "b_key": "b_value"},
    "ServerID": 23,
    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    "Details": "Test bounce details",
    "Email": "john@example.com",
    "From": "sender@example.com",
    "BouncedAt": "2019-11-05T16:33:54.9070259Z",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Test subject",
    "Content": "<Full dump of bounce>",
}
SPAM_COMPLAINT = {
    **BOUNCE,
    "RecordType": "SpamComplaint",
    "ID": 42,
    "Type": "SpamComplaint",
    "TypeCode": 512,
    "Name": "Spam complaint",
    "MessageID": "00000000-0000-0000-0000-000000000000",
    "ServerID": 1234,
    "Description": "",
    "Details": "Test spam complaint details",
    "CanActivate": False,
    "Content": "<Abuse report dump>",
}
SUBSCRIPTION_CHANGE = {
    "RecordType": "SubscriptionChange",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "ServerID": 123456,
    "MessageStream": "outbound",
    "ChangedAt": "2020-02-01T10:53:34.416071Z",
    "Recipient": "bounced-address@wildbit.com",
    "Origin": "Recipient",
    "SuppressSending": True,
    "SuppressionReason": "HardBounce",
    "Tag": "my-tag",
    "Metadata": {"example": "value", "example_2": "value"},
}
DELIVERY = {
    "RecordType": "Delivery",
    "ServerID": 23,
    "MessageStream": "outbound",
    "MessageID": "00000000-0000-0000-0000-000000000000",
    "Recipient": "john@example.com",
    "Tag": "welcome-email",
    "DeliveredAt": "2019-11-05T16:33:54.9070259Z",
    "Details": "Test delivery webhook details",
    "Metadata": {"a_key": "a_value", "b_key": "b_value"},
}


def basic(user=USER, password=PASSWORD) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def made_ours(example: dict, drive, address=FIRST, *, tagged=True, **fields) -> dict:
    """The example about `address`, carrying what the service attached to its email (X-PM-Metadata-…)."""
    record = copy.deepcopy(example)
    record["Email" if "Email" in record else "Recipient"] = address
    if tagged:
        record["Metadata"]["mobilise_delivery"] = drive.email_to(address)["X-PM-Metadata-mobilise_delivery"]
    return {**record, **fields}


@pytest.fixture
def drive(app, client, relay, run_jobs):
    return Drive(app, client, relay, run_jobs, {"POSTMARK_WEBHOOK_USER": USER, "POSTMARK_WEBHOOK_PASSWORD": PASSWORD})


def post(client, record, headers=None):
    return client.post("/webhooks/postmark", json=record, headers=basic() if headers is None else headers)


def test_a_hard_bounce_stops_the_mail_and_counts_for_its_email(drive, client):
    answer = post(client, made_ours(BOUNCE, drive))
    assert answer.status_code == 200 and answer.json == {**NOTHING, "recorded": 1}
    assert drive.statuses() == {FIRST: "bounced", SECOND: "subscribed"}
    assert drive.stats()["bounced"] == 1
    # Postmark's suppression that follows the bounce says the same again: the email still counts once.
    suppressed = made_ours(SUBSCRIPTION_CHANGE, drive)
    assert post(client, suppressed).json == {**NOTHING, "recorded": 1}
    assert drive.stats()["bounced"] == 1
    assert drive.next_mailing_recipients() == [SECOND]


def test_a_complaint_by_address_stops_the_mail(drive, client):
    assert post(client, made_ours(SPAM_COMPLAINT, drive, SECOND, tagged=False)).json == {**NOTHING, "recorded": 1}
    assert drive.statuses() == {FIRST: "subscribed", SECOND: "complained"}
    assert drive.next_mailing_recipients() == [FIRST]


def test_a_manual_suppression_unsubscribes_and_a_reactivation_changes_nothing(drive, client):
    unsubscribe = made_ours(SUBSCRIPTION_CHANGE, drive, SuppressionReason="ManualSuppression")
    assert post(client, unsubscribe).json == {**NOTHING, "recorded": 1}
    assert post(client, unsubscribe).json == {**NOTHING, "duplicate": 1}
    assert drive.statuses() == {FIRST: "unsubscribed", SECOND: "subscribed"}
    assert drive.stats()["unsubscribed"] == 1
    reactivated = {**unsubscribe, "SuppressSending": False, "ChangedAt": "2020-02-02T10:00:00Z"}
    assert post(client, reactivated).json == NOTHING
    assert drive.statuses()[FIRST] == "unsubscribed"  # consent to mail again is the supporter's to give us
    assert drive.next_mailing_recipients() == [SECOND]


def test_the_same_record_twice_counts_once(drive, client):
    bounce = made_ours(BOUNCE, drive)
    assert post(client, bounce).json == {**NOTHING, "recorded": 1}
    assert post(client, bounce).json == {**NOTHING, "duplicate": 1}
    assert drive.stats()["bounced"] == 1
    soft = made_ours(BOUNCE, drive, SECOND, ID=77, Type="SoftBounce", TypeCode=4096, Name="Soft bounce")
    for _ in range(3):  # the third soft bounce would stop the mail
        post(client, soft)
    assert drive.statuses()[SECOND] == "subscribed"


def test_records_that_say_nothing_against_the_address_change_nothing(drive, client):
    before = drive.snapshot()
    quiet = [
        made_ours(DELIVERY, drive),
        made_ours(BOUNCE, drive, ID=5, Type="ManuallyDeactivated", TypeCode=8192),  # Postmark's own suppression
        made_ours(BOUNCE, drive, ID=6, Type="DMARCPolicy", TypeCode=100009),  # about our domain
        made_ours(BOUNCE, drive, ID=7, Type="AutoResponder", TypeCode=64),
    ]
    for record in quiet:
        assert post(client, record).json == NOTHING, record["RecordType"]
    assert post(client, made_ours(BOUNCE, drive, STRANGER, tagged=False)).json == {**NOTHING, "unknown": 1}
    assert drive.snapshot() == before


def test_wrong_missing_or_unset_credentials_answer_401_and_change_nothing(app, drive, client):
    before = drive.snapshot()
    bounce = made_ours(BOUNCE, drive)
    for name, headers in {
        "a wrong password": basic(password="guess"),
        "a wrong user": basic(user="admin"),
        "none": {},
        "a bearer token": {"Authorization": f"Bearer {PASSWORD}"},
        "not base64": {"Authorization": "Basic !!!"},
    }.items():
        answer = post(client, bounce, headers)
        assert answer.status_code == 401, name
        assert answer.headers["WWW-Authenticate"].startswith("Basic"), name
    app.config["POSTMARK_WEBHOOK_PASSWORD"] = None
    assert post(client, bounce).status_code == 401
    assert drive.snapshot() == before


def test_a_malformed_body_answers_400_and_records_nothing(drive, client):
    before = drive.snapshot()
    bounce = made_ours(BOUNCE, drive)
    for name, body in {"not JSON": b'{"RecordType": ', "a list": b"[]", "NaN": b'{"ID": NaN}'}.items():
        answer = client.post("/webhooks/postmark", data=body, content_type="application/json", headers=basic())
        assert answer.status_code == 400, name
    for name, record in {
        "no RecordType": {**bounce, "RecordType": None},
        "no ID": {**bounce, "ID": None},
        "an ID that is an object": {**bounce, "ID": {"id": 1}},
        "metadata that is a list": {**bounce, "Metadata": ["mobilise_delivery"]},
        "a huge address": {**bounce, "Email": "a" * 100_000 + "@example.com"},
        "SuppressSending that is text": made_ours(SUBSCRIPTION_CHANGE, drive, SuppressSending="true"),
    }.items():
        assert post(client, record).status_code == 400, name
    assert drive.snapshot() == before
