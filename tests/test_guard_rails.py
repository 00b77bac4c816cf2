"""A mailing pauses itself before the mailbox providers block the office, says why, and waits for staff."""

from mobilise.deliverability.feedback import Report, record
from mobilise.extensions import db
from mobilise.models import Delivery, Mailing, Supporter
from mobilise.sending import service as sending
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for


def launch(count):
    """A launch sent now: its audience job is queued, and waits for the test to work the queues."""
    office = make_office()
    make_supporters(office, count)
    drive = start_drive(make_case(), office, {"office": "GB"})
    return drive.mailings[0].id


def batches(mailing_id):
    """The send batches' id ranges, in order, as the audience job enqueues them."""
    sending.take_audience(mailing_id)
    ids = db.session.scalars(
        db.select(Delivery.id).where(Delivery.mailing_id == mailing_id).order_by(Delivery.id)
    ).all()
    size = 3  # SEND_BATCH_SIZE in the tests
    return [(ids[n], ids[min(n + size, len(ids)) - 1]) for n in range(0, len(ids), size)]


def mailing(mailing_id) -> Mailing:
    db.session.expire_all()
    return db.session.get(Mailing, mailing_id)


def complain(email, event_id):
    delivery = db.session.scalar(db.select(Delivery).join(Supporter).where(Supporter.email == email))
    return record(Report(source="postmark", kind="complaint", event_id=event_id, delivery_id=delivery.id))


def test_complaints_past_the_providers_limit_pause_the_mailing_until_staff_resume_it(app, client, relay, run_jobs):
    app.config["GUARD_MIN_SAMPLE"] = 6
    mailing_id = launch(12)
    first, second, *_ = batches(mailing_id)
    sending.send_batch(mailing_id, *first)
    complain("person0@gb.example.net", "c0")
    assert mailing(mailing_id).status == "sending"  # 3 emails tried: under the sample, whatever the rate

    sending.send_batch(mailing_id, *second)
    complain("person1@gb.example.net", "c1")
    paused = mailing(mailing_id)
    assert paused.status == "paused" and paused.paused_until is None
    assert "spam complaints reached 33.33% of 6 emails (2 complaints)" in paused.pause_reason
    assert "0.3%" in paused.pause_reason

    run_jobs()  # the other batches find the mailing paused
    assert len(relay.received) == 6

    admin = bearer(token_for("admin@example.org", admin=True))
    shown = client.get(f"/api/v1/cases/{paused.drive.case_id}/schedule", headers=admin).get_json()
    assert shown[0]["paused"] == {"reason": paused.pause_reason, "until": None}  # staff read why it waits

    answer = client.post(f"/api/v1/mailings/{mailing_id}/resume", headers=admin)
    assert answer.status_code == 200
    # A complaint that was already on its way counts from the resume on: under the sample again, no new pause.
    complain("person2@gb.example.net", "c2")
    assert mailing(mailing_id).status == "sending"
    run_jobs()
    assert mailing(mailing_id).status == "sent"
    assert len(relay.received) == 12


def test_hard_bounces_at_the_relay_past_the_share_pause_the_mailing_mid_way(app, relay, run_jobs):
    app.config["GUARD_MIN_SAMPLE"] = 6
    for n in (0, 2, 4):
        relay.refuse[f"person{n}@gb.example.net"] = "550 5.1.1 No such user"
    mailing_id = launch(9)
    sending.take_audience(mailing_id)
    run_jobs()

    paused = mailing(mailing_id)
    assert paused.status == "paused"
    assert "hard bounces reached 50% of 6 emails (3 addresses that do not exist)" in paused.pause_reason
    assert "past the 5% allowed" in paused.pause_reason
    assert len(relay.received) == 3  # two batches went; the three addresses after them wait with the mailing
    assert paused.guard_baseline == {"attempted": 6, "hard": 3, "complaints": 0}


def test_the_shares_are_settings(app, relay, run_jobs):
    app.config.update(GUARD_MIN_SAMPLE=6, GUARD_BOUNCE_RATE=0.6)
    for n in (0, 2, 4):
        relay.refuse[f"person{n}@gb.example.net"] = "550 5.1.1 No such user"
    mailing_id = launch(9)
    sending.take_audience(mailing_id)
    run_jobs()
    assert mailing(mailing_id).status == "sent"  # 3 of 9 is a third, under the 60% this office allows
    assert len(relay.received) == 6


def test_a_mailing_already_sent_is_not_paused_by_late_complaints(app, relay, run_jobs):
    app.config["GUARD_MIN_SAMPLE"] = 3
    mailing_id = launch(3)
    sending.take_audience(mailing_id)
    run_jobs()
    assert complain("person0@gb.example.net", "late") == "recorded"
    assert mailing(mailing_id).status == "sent"
    assert (
        db.session.scalar(db.select(Supporter.status).where(Supporter.email == "person0@gb.example.net"))
        == "complained"
    )


def test_the_console_shows_staff_why_the_mailing_waits_and_lets_them_resume_it(app, client, relay, run_jobs):
    from .test_console import sign_in

    app.config["GUARD_MIN_SAMPLE"] = 3
    mailing_id = launch(6)
    first, *_ = batches(mailing_id)
    sending.send_batch(mailing_id, *first)
    complain("person0@gb.example.net", "c0")
    token_for("staff@uk.example.org", office="GB")
    sign_in(client, "staff@uk.example.org")

    page = client.get(f"/console/cases/{mailing(mailing_id).drive.case_id}").get_data(as_text=True)
    assert "spam complaints reached 33.33% of 3 emails" in page
    assert "Resume sending" in page


def test_a_batch_under_way_stops_at_its_next_write_once_a_report_paused_its_mailing(app, relay, run_jobs, monkeypatch):
    from mobilise.sending import batch

    app.config.update(GUARD_MIN_SAMPLE=1, SEND_BATCH_SIZE=12)
    monkeypatch.setattr(batch, "FLUSH_EVERY", 3)
    mailing_id = launch(12)
    accept = relay.handle_DATA

    async def complaint_arrives_meanwhile(server, session, envelope):
        # A provider's webhook, answered by another process while this batch sends: a complaint about the fifth
        # email, once the batch has written (and counted) its first three.
        answer = await accept(server, session, envelope)
        if len(relay.received) == 5:
            with app.app_context():
                complain(envelope.rcpt_tos[0], "meanwhile")
                db.session.remove()
        return answer

    monkeypatch.setattr(relay, "handle_DATA", complaint_arrives_meanwhile)
    sending.take_audience(mailing_id)
    run_jobs()

    assert mailing(mailing_id).status == "paused"
    assert len(relay.received) == 6  # the sixth was on its way; the batch stopped at its next write
    assert (
        db.session.scalar(
            db.select(db.func.count(Delivery.id)).where(Delivery.mailing_id == mailing_id, Delivery.status == "queued")
        )
        == 6
    )  # given back, to go once resumed


def sent_to(first, last) -> list[str]:
    return db.session.scalars(
        db.select(Supporter.email)
        .join(Delivery, Delivery.supporter_id == Supporter.id)
        .where(Delivery.id.between(first, last), Delivery.status == "sent")
        .order_by(Delivery.id)
    ).all()


def test_late_reports_about_the_emails_before_a_pause_do_not_pause_the_resumed_mailing(app, client, relay):
    app.config.update(GUARD_MIN_SAMPLE=3, GUARD_BOUNCE_RATE=0.5)
    mailing_id = launch(12)
    first, second, *_ = batches(mailing_id)
    sending.send_batch(mailing_id, *first)
    a, b, c = sent_to(*first)
    complain(a, "c0")
    assert mailing(mailing_id).status == "paused"
    complain(b, "c1")  # the same three emails' complaints, arriving while it waits
    complain(c, "c2")
    admin = bearer(token_for("admin@example.org", admin=True))
    assert client.post(f"/api/v1/mailings/{mailing_id}/resume", headers=admin).status_code == 200

    sending.send_batch(mailing_id, *second)
    _, e, _ = sent_to(*second)
    delivery = db.session.scalar(db.select(Delivery).join(Supporter).where(Supporter.email == e))
    record(Report(source="postmark", kind="hard", event_id="h", delivery_id=delivery.id))  # 1 of 3: under the 50%
    assert mailing(mailing_id).status == "sending", mailing(mailing_id).pause_reason
