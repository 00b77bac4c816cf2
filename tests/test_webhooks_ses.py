"""POST /webhooks/ses: Amazon SES's events through SNS, signed with a real RSA key and certificate that a local
HTTPS server, trusted through a test CA, serves for `sns.us-east-1.amazonaws.com`; SES's documented examples
carry the addresses and ids of a mailing really sent through the relay first."""

import json
from datetime import timedelta

import pytest

from mobilise import create_app
from mobilise.deliverability import ses
from mobilise.deliverability.models import FeedbackEvent
from mobilise.deliverability.sns import is_sns_url
from mobilise.extensions import db
from mobilise.models import Delivery, Supporter
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.lifecycle import apply_change
from mobilise.supporters.models import Bounce

from . import conftest
from . import ses_examples as aws
from .builders import bearer, make_case, make_office, make_supporters, token_for
from .sns import CERT_PATH, CERT_URL, TOPIC, Signer, SNSServer, notification, now_stamp, pem, subscription_confirmation

ADDRESSES = [f"person{n}@gb.example.net" for n in range(3)]


@pytest.fixture(scope="session")
def sns_server():
    server = SNSServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def signer(app, sns_server):
    """SNS's signing key for this test, its certificate served at CERT_URL; the webhook set up for TOPIC."""
    key = Signer(sns_server.ca_key)
    sns_server.certificates.clear()
    sns_server.certificates[CERT_PATH] = pem(key.certificate)
    sns_server.requests.clear()
    app.config.update(SES_TOPIC_ARNS=(TOPIC,), **sns_server.config())
    return key


@pytest.fixture
def mailing(signer, run_jobs, relay):
    """A launch to three supporters, sent through the relay with the SES tag on each email."""
    office = make_office()
    make_supporters(office, 3)
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    assert relay.recipients() == ADDRESSES
    return case


def sent_to(relay, address):
    return next(m for m in relay.messages() if m["To"] == address)


def post(client, message: dict):
    return client.post(
        "/webhooks/ses",
        data=json.dumps(message),
        headers={"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": message["Type"]},
    )


def status_of(address):
    return db.session.scalar(db.select(Supporter.status).where(Supporter.email == address))


def launch_counts(client, case):
    admin = token_for("admin@example.org", admin=True)
    stats = client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(admin)).json
    return next(m for m in stats["mailings"] if m["stage"] == "launch"), stats["totals"]


def test_a_signed_bounce_stops_the_mail_once_and_the_next_mailing_skips_them(
    client, relay, run_jobs, signer, sns_server, mailing
):
    email = sent_to(relay, "person1@gb.example.net")
    event = aws.example(aws.BOUNCE_WITH_DSN, address="person1@gb.example.net", message_id=email["Message-ID"])
    message = signer.sign(notification(event, Subject="Amazon SES Email Event Notification"), version="1")

    assert post(client, message).json == {"recorded": 1, "duplicate": 0, "unknown": 0}
    assert post(client, message).json == {"recorded": 0, "duplicate": 1, "unknown": 0}  # SNS delivers it again
    assert status_of("person1@gb.example.net") == "bounced"
    launch, totals = launch_counts(client, mailing)
    assert (launch["sent"], launch["bounced"], totals["bounced"]) == (3, 1, 1)
    bounce = db.session.scalar(db.select(Bounce))
    assert (bounce.kind, bounce.source, bounce.detail) == (
        "hard",
        "ses",
        "5.1.1 smtp; 550 5.1.1 <person1@gb.example.net>... User",
    )
    assert bounce.delivery_id == db.session.scalar(
        db.select(Delivery.id).join(Supporter).where(Supporter.email == "person1@gb.example.net")
    )
    assert sns_server.requests == [CERT_PATH]  # fetched once, then kept

    relay.received.clear()
    apply_change(mailing, {"kind": "update", "body": "Eduardo Torres was moved to another prison."})
    run_jobs()
    assert relay.recipients() == ["person0@gb.example.net", "person2@gb.example.net"]


def test_a_signed_complaint_event_names_its_email_by_the_ses_tag(client, relay, signer, mailing):
    email = sent_to(relay, "person2@gb.example.net")
    tag = email["X-SES-MESSAGE-TAGS"]
    assert tag.startswith("mobilise_delivery=")
    event = aws.example(
        aws.EVENT_COMPLAINT,
        address="person2@gb.example.net",
        example_address="recipient@example.com",
        delivery_id=int(tag.split("=")[1]),
    )

    assert post(client, signer.sign(notification(event), version="2")).json["recorded"] == 1
    assert status_of("person2@gb.example.net") == "complained"
    assert [status_of(a) for a in ADDRESSES[:2]] == ["subscribed", "subscribed"]
    bounce = db.session.scalar(db.select(Bounce))
    assert (bounce.kind, bounce.delivery_id, bounce.detail) == ("complaint", int(tag.split("=")[1]), "complaint: abuse")


def test_not_spam_and_deliveries_change_nothing(client, relay, signer, mailing):
    not_spam = aws.example(
        aws.COMPLAINT_WITH_FEEDBACK, address="person0@gb.example.net", example_address="richard@example.com"
    )
    not_spam["complaint"]["complaintFeedbackType"] = "not-spam"
    delivered = aws.example(aws.DELIVERY, address="person0@gb.example.net")
    for event in (not_spam, delivered):
        assert post(client, signer.sign(notification(event))).json == {"recorded": 0, "duplicate": 0, "unknown": 0}
    assert status_of("person0@gb.example.net") == "subscribed"
    assert db.session.scalar(db.select(db.func.count(Bounce.id))) == 0


def test_an_unsubscribe_through_ses_list_management_unsubscribes(client, relay, signer, mailing):
    event = aws.example(
        aws.EVENT_SUBSCRIPTION, address="person0@gb.example.net", example_address="recipient@example.com"
    )
    assert post(client, signer.sign(notification(event))).json["recorded"] == 1
    assert [status_of(a) for a in ADDRESSES] == ["unsubscribed", "subscribed", "subscribed"]


def _elsewhere(url):
    return lambda signer: signer.sign(notification(_bounce()), cert_url=url)


def _bounce():
    return aws.example(aws.BOUNCE_WITH_DSN, address="person0@gb.example.net")


def _tampered(signer):
    message = signer.sign(notification(_bounce()))
    message["Message"] = json.dumps(aws.example(aws.BOUNCE_WITH_DSN, address="person1@gb.example.net"))
    return message


REFUSED = {
    # name: (the message, given this test's signer; status; whether the certificate may be fetched)
    "unsigned": (lambda signer: notification(_bounce()), 403, False),
    "forged": (lambda signer: Signer().sign(notification(_bounce())), 403, True),
    "tampered": (_tampered, 403, True),
    "wrong topic": (
        lambda signer: signer.sign(notification(_bounce(), TopicArn=TOPIC.replace("123456789012", "210987654321"))),
        403,
        False,
    ),
    "stale": (
        lambda signer: signer.sign(notification(_bounce(), Timestamp=now_stamp(ago=timedelta(hours=2)))),
        403,
        False,
    ),
    "from the future": (
        lambda signer: signer.sign(notification(_bounce(), Timestamp=now_stamp(ago=-timedelta(hours=1)))),
        403,
        False,
    ),
    "cert on another host": (
        _elsewhere(f"https://sns.us-east-1.amazonaws.com.attacker.example{CERT_PATH}"),
        403,
        False,
    ),
    "cert under another host's path": (
        _elsewhere(f"https://attacker.example/sns.us-east-1.amazonaws.com{CERT_PATH}"),
        403,
        False,
    ),
    # The server below does serve the certificate on these: only the rule refuses them.
    "cert over http": (_elsewhere(f"http://sns.us-east-1.amazonaws.com{CERT_PATH}"), 403, False),
    "cert on another port": (_elsewhere(f"https://sns.us-east-1.amazonaws.com:8443{CERT_PATH}"), 403, False),
    "cert with credentials": (_elsewhere(f"https://me@sns.us-east-1.amazonaws.com{CERT_PATH}"), 403, False),
    "signature version 3": (
        lambda signer: {**signer.sign(notification(_bounce())), "SignatureVersion": "3"},
        403,
        False,
    ),
    "signature version not a string": (
        lambda signer: {**signer.sign(notification(_bounce())), "SignatureVersion": [1]},
        403,
        False,
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_message_that_fails_verification_changes_nothing(client, relay, signer, sns_server, mailing, case):
    build, status, may_fetch = REFUSED[case]
    message = build(signer)
    answer = post(client, message)
    assert answer.status_code == status, answer.json
    assert "error" in answer.json
    assert [status_of(a) for a in ADDRESSES] == ["subscribed"] * 3
    assert db.session.scalar(db.select(db.func.count(FeedbackEvent.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Bounce.id))) == 0
    assert sns_server.requests == ([CERT_PATH] if may_fetch else [])


def test_a_body_that_is_no_sns_message_answers_400(client, signer):
    for body in (b"not json", b"[]", json.dumps({"Type": "Something"}).encode(), json.dumps({"Type": []}).encode()):
        assert client.post("/webhooks/ses", data=body).status_code == 400


def test_no_topic_set_up_answers_401(app, client, signer, mailing, sns_server):
    app.config["SES_TOPIC_ARNS"] = ()
    answer = post(client, signer.sign(notification(_bounce())))
    assert answer.status_code == 401
    assert status_of("person0@gb.example.net") == "subscribed" and sns_server.requests == []


def test_a_subscription_confirmation_is_verified_then_visits_its_subscribe_url(client, signer, sns_server):
    confirmation = subscription_confirmation()
    assert post(client, signer.sign(confirmation)).status_code == 200
    assert sns_server.requests == [CERT_PATH, confirmation["SubscribeURL"].split(".com", 1)[1]]

    sns_server.requests.clear()
    assert post(client, signer.sign(subscription_confirmation("UnsubscribeConfirmation"))).status_code == 200
    forged = Signer().sign(subscription_confirmation())
    assert post(client, forged).status_code == 403
    elsewhere = subscription_confirmation(SubscribeURL="https://attacker.example/?Action=ConfirmSubscription&Token=1")
    assert post(client, signer.sign(elsewhere)).status_code == 403
    other_topic = subscription_confirmation(TopicArn=TOPIC + "-other")
    assert post(client, signer.sign(other_topic)).status_code == 403
    assert not [path for path in sns_server.requests if "ConfirmSubscription" in path]


def test_the_certificate_is_kept_for_every_worker_and_a_bad_entry_is_fetched_again(
    database_url, relay, client, signer, sns_server, redis_client
):
    assert post(client, signer.sign(notification(aws.example(aws.DELIVERY)))).status_code == 200
    assert sns_server.requests == [CERT_PATH]
    [key] = redis_client.keys("mobilise:sns-certificate:*")

    def another_worker():
        """A new app, as another gunicorn worker: nothing in its memory, the same Redis."""
        worker = create_app(
            {**conftest.test_config(database_url, relay), "SES_TOPIC_ARNS": (TOPIC,), **sns_server.config()}
        )
        answer = post(worker.test_client(), signer.sign(notification(aws.example(aws.DELIVERY))))
        with worker.app_context():
            db.engine.dispose()
        return answer.status_code

    assert another_worker() == 200 and sns_server.requests == [CERT_PATH]  # read from Redis, not fetched
    redis_client.set(key, b"-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")
    assert another_worker() == 200 and sns_server.requests == [CERT_PATH] * 2
    redis_client.set(key, pem(Signer().certificate))  # a certificate in date, but not the one that signs
    assert another_worker() == 200 and sns_server.requests == [CERT_PATH] * 3
    assert redis_client.get(key) == pem(signer.certificate)


# What each documented example becomes (no app: the mapping alone).
MAPPED = {
    "bounce with a DSN": (
        aws.BOUNCE_WITH_DSN,
        {},
        [
            (
                "hard",
                "jane@example.com",
                "5.1.1 smtp; 550 5.1.1 <jane@example.com>... User",
                "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000:jane@example.com",
            )
        ],
    ),
    "bounce without a DSN": (
        aws.BOUNCE_WITHOUT_DSN,
        {},
        [
            (
                "hard",
                "jane@example.com",
                "Permanent General",
                "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000:jane@example.com",
            ),
            (
                "hard",
                "richard@example.com",
                "Permanent General",
                "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000:richard@example.com",
            ),
        ],
    ),
    "transient bounce": (
        aws.BOUNCE_WITHOUT_DSN,
        {"bounceType": "Transient", "bounceSubType": "MailboxFull"},
        [
            (
                "soft",
                "jane@example.com",
                "Transient MailboxFull",
                "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000:jane@example.com",
            ),
            (
                "soft",
                "richard@example.com",
                "Transient MailboxFull",
                "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000:richard@example.com",
            ),
        ],
    ),
    "undetermined bounce": (
        aws.EVENT_BOUNCE,
        {"bounceType": "Undetermined"},
        [
            (
                "soft",
                "recipient@example.com",
                "5.1.1 smtp; 550 5.1.1 user unknown",
                "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000:recipient@example.com",
            )
        ],
    ),
    "complaint with a feedback report": (
        aws.COMPLAINT_WITH_FEEDBACK,
        {},
        [
            (
                "complaint",
                "richard@example.com",
                "complaint: abuse",
                "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000:richard@example.com",
            )
        ],
    ),
    "complaint without a feedback report": (
        aws.COMPLAINT_WITHOUT_FEEDBACK,
        {},
        [
            (
                "complaint",
                "richard@example.com",
                "complaint",
                "0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000:richard@example.com",
            )
        ],
    ),
    "event: bounce": (
        aws.EVENT_BOUNCE,
        {},
        [
            (
                "hard",
                "recipient@example.com",
                "5.1.1 smtp; 550 5.1.1 user unknown",
                "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000:recipient@example.com",
            )
        ],
    ),
    "event: complaint": (
        aws.EVENT_COMPLAINT,
        {},
        [
            (
                "complaint",
                "recipient@example.com",
                "complaint: abuse",
                "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000:recipient@example.com",
            )
        ],
    ),
    "event: subscription": (
        aws.EVENT_SUBSCRIPTION,
        {},
        [("unsubscribe", "recipient@example.com", "unsubscribe: UnsubscribeHeader", "SNS-ID:recipient@example.com")],
    ),
    "delivery": (aws.DELIVERY, {}, []),
    "event: delivery delay": (aws.EVENT_DELIVERY_DELAY, {}, []),
    "event: reject": (aws.EVENT_REJECT, {}, []),
}


@pytest.mark.parametrize("name", MAPPED, ids=list(MAPPED))
def test_each_documented_example_maps_to_its_reports(name):
    text, bounce, expected = MAPPED[name]
    reports = ses.events_in(notification(aws.example(text, **bounce), MessageId="SNS-ID"))
    assert [(r.kind, r.email, r.detail, r.event_id) for r in reports] == expected
    assert all(r.source == "ses" and r.delivery_id is None and r.message_id is None for r in reports)


def test_the_email_is_named_by_the_tag_then_our_message_id_never_by_ses_own_id():
    tagged = aws.example(aws.EVENT_BOUNCE, delivery_id=42)
    [report] = ses.events_in(notification(tagged))
    assert report.delivery_id == 42
    ours = aws.example(aws.BOUNCE_WITH_DSN, message_id="<delivery.7@uk.example.org>")
    [report] = ses.events_in(notification(ours))
    assert (report.delivery_id, report.message_id) == (None, "<delivery.7@uk.example.org>")
    only_in_headers = aws.example(aws.BOUNCE_WITH_DSN, message_id="<delivery.8@uk.example.org>")
    only_in_headers["mail"]["commonHeaders"]["messageId"] = only_in_headers["mail"]["messageId"]
    [report] = ses.events_in(notification(only_in_headers))
    assert report.message_id == "<delivery.8@uk.example.org>"
    assert ses.events_in(notification("Hello world!")) == []  # a test message published by hand


@pytest.mark.parametrize(
    "url, accepted",
    [
        (CERT_URL, True),
        ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", True),
        ("https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-abc.pem", True),
        ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.txt", False),
        ("https://sns.amazonaws.com/SimpleNotificationService-abc.pem", False),
        ("https://sns.us-east-1.amazonaws.com.cn.attacker.example/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com%2F@attacker.example/x.pem", False),
        ("https://attacker.example/https://sns.us-east-1.amazonaws.com/x.pem", False),
        ("https://sqs.us-east-1.amazonaws.com/x.pem", False),
        ("https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem", True),
        ("https://sns.s3.amazonaws.com/x.pem", False),  # an S3 bucket named "sns", under AWS's wildcard certificate
        ("https://sns.s3-us-west-2.amazonaws.com/x.pem", False),
        ("http://sns.us-east-1.amazonaws.com/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com:444/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com:bad/x.pem", False),
        ("https://sns.us-east-1.amazonaws.com/a b.pem", False),
        ("https://sns.us-east-1.amazonaws.com/x.pem\r\nHost: attacker.example", False),
        (None, False),
    ],
)
def test_the_certificate_url_rule(url, accepted):
    assert is_sns_url(url, pem=True) is accepted
