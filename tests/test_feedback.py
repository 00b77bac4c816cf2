"""What comes back from providers and inbound mail, through its one way in (`feedback.record`): each report names
its email, applies the suppression rules once, and never reaches anyone else."""

from datetime import timedelta

from mobilise.clock import utcnow
from mobilise.counts.models import MailingCounts
from mobilise.deliverability.feedback import Report, record
from mobilise.extensions import db
from mobilise.models import Delivery, Mailing, Supporter
from mobilise.sequences import mailing_state
from mobilise.sequences.dispatch import start_drive
from mobilise.supporters.models import Bounce

from .builders import make_case, make_office, make_supporters


def sent_drive(count=3, code="GB"):
    office = make_office(code=code, sender=f"ua@{code.lower()}.example.org")
    make_supporters(office, count)
    case = make_case()
    return office, case, start_drive(case, office, {"office": code})


def delivery_to(email: str) -> Delivery:
    return db.session.scalar(
        db.select(Delivery)
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(Supporter.email == email)
        .order_by(Delivery.id.desc())
        .limit(1)
    )


def status_of(email: str) -> list[str]:
    return db.session.scalars(db.select(Supporter.status).where(Supporter.email == email).order_by(Supporter.id)).all()


def counts(mailing_id: int) -> dict:
    db.session.expire_all()
    return db.session.get(MailingCounts, mailing_id).as_dict()


def send_update(drive, run_jobs):
    update = Mailing(drive_id=drive.id, stage="update", audience="all", status="planned", send_at=utcnow())
    db.session.add(update)
    db.session.commit()
    mailing_state.queue_now(update.id, utcnow())
    run_jobs()


def test_a_hard_bounce_named_by_delivery_stops_the_mail_and_counts_once_however_often_it_comes(app, relay, run_jobs):
    office, case, drive = sent_drive()
    run_jobs()
    delivery = delivery_to("person1@gb.example.net")
    report = Report(source="sendgrid", kind="hard", event_id="evt-1", delivery_id=delivery.id, detail="550 5.1.1 gone")

    assert record(report) == "recorded"
    assert record(report) == "duplicate"

    assert status_of("person1@gb.example.net") == ["bounced"]
    assert counts(delivery.mailing_id)["bounced"] == 1
    bounces = db.session.scalars(db.select(Bounce)).all()
    assert [(b.kind, b.source, b.mailing_id) for b in bounces] == [("hard", "sendgrid", delivery.mailing_id)]

    relay.received.clear()
    send_update(drive, run_jobs)
    assert relay.recipients() == ["person0@gb.example.net", "person2@gb.example.net"]


def test_the_same_event_id_from_another_source_is_another_report(app, relay, run_jobs):
    sent_drive()
    run_jobs()
    delivery = delivery_to("person0@gb.example.net")
    assert record(Report(source="mailgun", kind="soft", event_id="same", delivery_id=delivery.id)) == "recorded"
    assert record(Report(source="postmark", kind="soft", event_id="same", delivery_id=delivery.id)) == "recorded"
    assert db.session.scalar(db.select(db.func.count(Bounce.id))) == 2
    assert status_of("person0@gb.example.net") == ["subscribed"]  # two soft bounces do not stop the mail; a third does


def test_our_message_id_names_the_email_with_or_without_angle_brackets(app, relay, run_jobs):
    sent_drive()
    run_jobs()
    first, second = delivery_to("person0@gb.example.net"), delivery_to("person2@gb.example.net")
    assert (
        record(Report(source="ses", kind="complaint", event_id="a", message_id=f"<delivery.{first.id}@gb.example.org>"))
        == "recorded"
    )
    assert (
        record(Report(source="ses", kind="hard", event_id="b", message_id=f"delivery.{second.id}@gb.example.org"))
        == "recorded"
    )
    assert status_of("person0@gb.example.net") == ["complained"]
    assert status_of("person2@gb.example.net") == ["bounced"]
    assert status_of("person1@gb.example.net") == ["subscribed"]
    assert counts(first.mailing_id)["bounced"] == 1  # the complaint is not a bounce


def test_by_address_the_report_is_about_the_latest_email_to_it_in_the_last_30_days(app, relay, run_jobs):
    sent_drive(code="GB")
    sent_drive(code="FR")  # person0@fr… is another person; the same address in two offices is tested below
    run_jobs()
    delivery = delivery_to("person0@gb.example.net")
    assert (
        record(Report(source="postmark", kind="unsubscribe", event_id="u1", email=" Person0@GB.example.net "))
        == "recorded"
    )
    assert status_of("person0@gb.example.net") == ["unsubscribed"]
    assert counts(delivery.mailing_id)["unsubscribed"] == 1
    assert status_of("person0@fr.example.net") == ["subscribed"]


def test_an_address_last_emailed_long_ago_is_stopped_in_every_office_that_has_it(app, relay, run_jobs):
    gb = make_office()
    fr = make_office(code="FR", sender="ua@fr.example.org")
    make_supporters(gb, 1, email="shared@example.net")
    make_supporters(fr, 1, email="shared@example.net")
    case = make_case()
    start_drive(case, gb, {"office": "GB"})
    run_jobs()
    old = delivery_to("shared@example.net")
    old.sent_at = utcnow() - timedelta(days=40)
    db.session.commit()

    assert record(Report(source="mailgun", kind="complaint", event_id="c1", email="shared@example.net")) == "recorded"
    assert status_of("shared@example.net") == ["complained", "complained"]
    assert counts(old.mailing_id)["bounced"] == 0


def test_a_report_about_a_stranger_changes_nothing_and_its_retry_is_a_duplicate(app, relay, run_jobs):
    sent_drive()
    run_jobs()
    stranger = Report(source="sendgrid", kind="hard", event_id="x", email="nobody@elsewhere.example")
    assert record(stranger) == "unknown"
    assert record(stranger) == "duplicate"
    assert db.session.scalar(db.select(db.func.count(Bounce.id))) == 0
    assert set(db.session.scalars(db.select(Supporter.status))) == {"subscribed"}


def test_an_unsubscribe_reported_twice_by_two_sources_counts_once_for_its_email(app, relay, run_jobs):
    sent_drive()
    run_jobs()
    delivery = delivery_to("person2@gb.example.net")
    record(Report(source="inbound", kind="unsubscribe", event_id="m1", delivery_id=delivery.id))
    record(Report(source="postmark", kind="unsubscribe", event_id="m2", delivery_id=delivery.id))
    assert status_of("person2@gb.example.net") == ["unsubscribed"]
    assert counts(delivery.mailing_id)["unsubscribed"] == 1


def test_with_an_inbound_domain_each_email_names_itself_in_its_bounce_and_unsubscribe_addresses(app, relay, run_jobs):
    from mobilise.tokens import read_token

    app.config["INBOUND_DOMAIN"] = "bounces.example.org"
    sent_drive(count=2)
    run_jobs()
    for envelope, message in zip(relay.received, relay.messages()):
        delivery = delivery_to(envelope.rcpt_tos[0])
        local, _, domain = envelope.mail_from.partition("@")
        assert domain == "bounces.example.org" and local.startswith("bounce+")
        assert read_token("bounce", local.removeprefix("bounce+")) == [delivery.id]
        mailto = message["List-Unsubscribe"].split("<mailto:")[1].rstrip(">")
        assert mailto.startswith("unsubscribe+") and mailto.endswith("@bounces.example.org")
        assert read_token("unsubscribe", mailto.split("@")[0].removeprefix("unsubscribe+")) == [delivery.id]
        assert message["From"].addresses[0].addr_spec == "ua@gb.example.org"  # what the reader sees is unchanged


def test_each_provider_set_up_gets_the_delivery_id_where_it_echoes_it_back(app, relay, run_jobs):
    import json

    app.config.update(
        SENDGRID_WEBHOOK_PUBLIC_KEY="key",
        MAILGUN_WEBHOOK_SIGNING_KEY="key",
        POSTMARK_WEBHOOK_USER="u",
        SES_TOPIC_ARNS=("arn:aws:sns:eu-west-1:1:ses",),
    )
    sent_drive(count=1)
    run_jobs()
    [message] = relay.messages()
    delivery = delivery_to("person0@gb.example.net")
    assert json.loads(message["X-SMTPAPI"]) == {"unique_args": {"mobilise_delivery": str(delivery.id)}}
    assert json.loads(message["X-Mailgun-Variables"]) == {"mobilise_delivery": str(delivery.id)}
    assert message["X-PM-Metadata-mobilise_delivery"] == str(delivery.id)
    assert message["X-SES-MESSAGE-TAGS"] == f"mobilise_delivery={delivery.id}"


def test_without_providers_set_up_an_email_carries_none_of_their_headers(app, relay, run_jobs):
    sent_drive(count=1)
    run_jobs()
    [message] = relay.messages()
    assert not {"X-SMTPAPI", "X-Mailgun-Variables", "X-PM-Metadata-mobilise_delivery", "X-SES-MESSAGE-TAGS"} & set(
        message.keys()
    )
    assert relay.received[0].mail_from == "ua@gb.example.org"


def test_event_ids_are_forgotten_once_no_provider_would_send_them_again(app, relay, run_jobs):
    from mobilise.deliverability.models import FeedbackEvent

    sent_drive(count=1)
    run_jobs()
    delivery = delivery_to("person0@gb.example.net")
    record(Report(source="ses", kind="soft", event_id="old", delivery_id=delivery.id))
    db.session.execute(db.update(FeedbackEvent).values(created_at=utcnow() - timedelta(days=46)))
    db.session.commit()
    record(Report(source="ses", kind="soft", event_id="new", delivery_id=delivery.id))
    assert db.session.scalars(db.select(FeedbackEvent.kind)).all() == ["soft"]


def test_by_address_alone_a_complaint_reaches_every_office_that_emailed_it_lately(app, relay, run_jobs):
    # SES's identity notifications name the address only: it cannot tell whether GB's or FR's email was marked.
    gb = make_office()
    fr = make_office(code="FR", sender="ua@fr.example.org")
    es = make_office(code="ES", sender="ua@es.example.org")
    for office in (gb, fr, es):
        make_supporters(office, 1, email="shared@example.net")
    start_drive(make_case(), gb, {"office": "GB"})
    run_jobs()
    start_drive(make_case(), fr, {"office": "FR"})
    run_jobs()  # ES never emailed them

    assert record(Report(source="ses", kind="complaint", event_id="c1", email="shared@example.net")) == "recorded"
    statuses = dict(
        db.session.execute(
            db.select(Supporter.office_id, Supporter.status).where(Supporter.email == "shared@example.net")
        ).all()
    )
    assert statuses == {gb.id: "complained", fr.id: "complained", es.id: "subscribed"}
