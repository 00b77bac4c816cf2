"""The send pipeline on the real Redis and a real SMTP relay: audience at send time, batches, exactly once."""

from mobilise.clock import utcnow
from mobilise.extensions import db
from mobilise.models import Delivery, Supporter
from mobilise.sending import service as sending
from mobilise.sequences import mailing_state
from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters


def launch_gb(count=7, **launch):
    office = make_office()
    make_supporters(office, count)
    case = make_case()
    drive = start_drive(case, office, {"office": "GB", **launch})
    return office, case, drive


def test_launch_reaches_every_subscribed_supporter_once(app, relay, run_jobs):
    office, case, drive = launch_gb(7)
    gone = db.session.scalar(db.select(Supporter).where(Supporter.email == "person3@gb.example.net"))
    gone.status = "unsubscribed"
    db.session.commit()

    run_jobs()

    expected = sorted(f"person{n}@gb.example.net" for n in range(7) if n != 3)
    assert relay.recipients() == expected
    launch_mailing = drive.mailings[0]
    db.session.refresh(launch_mailing)
    assert launch_mailing.status == "sent"
    statuses = db.session.scalars(db.select(Delivery.status).where(Delivery.mailing_id == launch_mailing.id)).all()
    assert sorted(statuses) == ["sent"] * 6


def test_running_the_jobs_again_sends_nothing_twice(app, relay, run_jobs):
    office, case, drive = launch_gb(5)
    run_jobs()
    mailing_id = drive.mailings[0].id
    # A duplicated or retried job for the same mailing and batch finds nothing left to claim.
    sending.take_audience(mailing_id)
    first, last = db.session.execute(
        db.select(db.func.min(Delivery.id), db.func.max(Delivery.id)).where(Delivery.mailing_id == mailing_id)
    ).one()
    sending.send_batch(mailing_id, first, last)
    run_jobs()
    assert len(relay.received) == 5


def test_supporter_who_unsubscribes_after_the_audience_is_taken_gets_nothing(app, relay):
    office, case, drive = launch_gb(4)
    mailing_id = drive.mailings[0].id
    sending.take_audience(mailing_id)
    late = db.session.scalar(db.select(Supporter).where(Supporter.email == "person0@gb.example.net"))
    late.status = "unsubscribed"
    db.session.commit()
    first, last = db.session.execute(
        db.select(db.func.min(Delivery.id), db.func.max(Delivery.id)).where(Delivery.mailing_id == mailing_id)
    ).one()
    sending.send_batch(mailing_id, first, last)
    assert "person0@gb.example.net" not in relay.recipients()
    assert len(relay.recipients()) == 3


def test_a_refused_address_fails_for_good_and_the_rest_go(app, relay, run_jobs):
    relay.refuse["person1@gb.example.net"] = "550 5.1.1 No such user"
    office, case, drive = launch_gb(3)
    run_jobs()
    rows = dict(
        db.session.execute(
            db.select(Supporter.email, Delivery.status).join(Delivery, Delivery.supporter_id == Supporter.id)
        ).all()
    )
    assert rows == {
        "person0@gb.example.net": "sent",
        "person1@gb.example.net": "failed",
        "person2@gb.example.net": "sent",
    }


def test_an_address_the_relay_refuses_for_good_is_a_hard_bounce_and_gets_no_more_mail(app, relay, run_jobs):
    from mobilise.sequences.models import Mailing
    from mobilise.supporters.models import Bounce, ConsentChange

    relay.refuse["person1@gb.example.net"] = "550 5.1.1 No such user"
    office, case, drive = launch_gb(3)
    run_jobs()
    refused = db.session.scalar(db.select(Supporter).where(Supporter.email == "person1@gb.example.net"))
    assert refused.status == "bounced"
    [bounce] = db.session.scalars(db.select(Bounce).where(Bounce.supporter_id == refused.id)).all()
    assert bounce.kind == "hard" and "550" in bounce.detail
    changes = db.session.scalars(db.select(ConsentChange.change).where(ConsentChange.supporter_id == refused.id)).all()
    assert changes[-1] == "bounced"

    # The next email of the drive is not offered to the relay for that address at all.
    del relay.refuse["person1@gb.example.net"]
    relay.received.clear()
    update = Mailing(
        drive_id=drive.id, stage="update", audience="all", status="planned", send_at=drive.mailings[0].send_at
    )
    db.session.add(update)
    db.session.commit()
    mailing_state.queue_now(update.id, utcnow())
    run_jobs()
    assert sorted(relay.recipients()) == ["person0@gb.example.net", "person2@gb.example.net"]


def test_the_audience_is_cut_into_batches_of_the_configured_size(app, relay, run_jobs):
    from rq.registry import FinishedJobRegistry

    from mobilise.jobs import queue

    app.config["SEND_BATCH_SIZE"] = 4
    office, case, drive = launch_gb(10)
    run_jobs()
    batches = sorted(j for j in FinishedJobRegistry(queue=queue("send")).get_job_ids() if j.startswith("batch-"))
    ids = db.session.scalars(db.select(Delivery.id).order_by(Delivery.id)).all()
    assert batches == sorted(f"batch-{drive.mailings[0].id}-{ids[a]}-{ids[b]}" for a, b in ((0, 3), (4, 7), (8, 9)))
    assert len(relay.received) == 10
