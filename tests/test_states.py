"""Each transition of the two state machines (`mailing_state`, `delivery_state`): it happens from the states it
expects, says so, and changes nothing from any other."""

from datetime import timedelta

import pytest

from mobilise.clock import utcnow
from mobilise.extensions import db
from mobilise.models import Delivery, Mailing, SendClaim
from mobilise.sending import delivery_state
from mobilise.sending.delivery_state import DeliveryStatus
from mobilise.sequences import mailing_state
from mobilise.sequences.mailing_state import MailingStatus
from mobilise.sequences.service import launch

from .builders import make_case, make_office, make_supporters


@pytest.fixture
def mailing_id(app):
    office = make_office()
    make_supporters(office, 4)
    drive = launch(make_case(), office, {"office": "GB"}, now=utcnow())
    return drive.mailings[0].id


def status(mailing_id):
    db.session.expire_all()
    return db.session.get(Mailing, mailing_id).status


def set_status(mailing_id, value):
    db.session.execute(db.update(Mailing).where(Mailing.id == mailing_id).values(status=value))
    db.session.commit()


def test_queue_moves_a_planned_mailing_once(mailing_id):
    assert mailing_state.queue(mailing_id, utcnow()) is True
    assert status(mailing_id) == MailingStatus.SENDING
    assert mailing_state.queue(mailing_id, utcnow()) is False


def test_pause_and_resume(mailing_id):
    assert mailing_state.pause(mailing_id, "relay down", None) is False  # planned: nothing to pause
    mailing_state.queue(mailing_id, utcnow())
    assert mailing_state.pause(mailing_id, "relay down", None) is True
    mailing = db.session.get(Mailing, mailing_id)
    assert (mailing.status, mailing.pause_reason) == (MailingStatus.PAUSED, "relay down")
    assert mailing.to_dict()["status"] == "sending" and mailing.to_dict()["paused"]["reason"] == "relay down"
    assert mailing_state.resume(mailing_id) is True
    assert status(mailing_id) == MailingStatus.SENDING and db.session.get(Mailing, mailing_id).pause_reason is None
    assert mailing_state.resume(mailing_id) is False


def test_resume_due_ends_only_the_timed_pauses_whose_time_has_come(mailing_id):
    mailing_state.queue(mailing_id, utcnow())
    until = utcnow() + timedelta(minutes=5)
    mailing_state.pause(mailing_id, "hourly limit", until)
    assert mailing_state.resume_due(utcnow()) == []
    assert mailing_state.resume_due(until) == [mailing_id]
    assert status(mailing_id) == MailingStatus.SENDING
    mailing_state.pause(mailing_id, "for staff", None)
    assert mailing_state.resume_due(utcnow() + timedelta(days=99)) == []  # staff's pause has no end by itself


def test_finish_needs_the_audience_taken_and_nothing_left(mailing_id):
    mailing_state.queue(mailing_id, utcnow())
    assert mailing_state.finish(mailing_id, utcnow(), db.true()) is False  # audience not taken
    db.session.execute(db.update(Mailing).where(Mailing.id == mailing_id).values(audience_taken_at=utcnow()))
    db.session.commit()
    assert mailing_state.finish(mailing_id, utcnow(), db.false()) is False  # something still to go
    assert mailing_state.finish(mailing_id, utcnow(), db.true()) is True
    assert status(mailing_id) == MailingStatus.SENT


@pytest.mark.parametrize("start", ["planned", "sending", "paused"])
def test_cancel_from_every_waiting_state(mailing_id, start):
    set_status(mailing_id, start)
    assert mailing_state.cancel(mailing_id, "case closed", utcnow()) is True
    assert status(mailing_id) == MailingStatus.CANCELLED
    assert mailing_state.cancel(mailing_id, "again", utcnow()) is False


def test_a_sent_mailing_cannot_be_cancelled_or_requeued(mailing_id):
    set_status(mailing_id, "sent")
    assert mailing_state.cancel(mailing_id, "late", utcnow()) is False
    assert mailing_state.queue(mailing_id, utcnow()) is False
    assert status(mailing_id) == MailingStatus.SENT


def test_repeated_failures_pause_for_staff_with_the_reason(mailing_id):
    mailing_state.queue(mailing_id, utcnow())
    assert mailing_state.record_failure(mailing_id, "OperationalError: gone", 3) is False
    assert mailing_state.record_failure(mailing_id, "OperationalError: gone", 3) is False
    assert mailing_state.record_failure(mailing_id, "OperationalError: gone", 3) is True
    mailing = db.session.get(Mailing, mailing_id)
    assert mailing.status == MailingStatus.PAUSED and mailing.paused_until is None
    assert "failed 3 times in a row (the last: OperationalError: gone)" in mailing.pause_reason
    mailing_state.resume(mailing_id)
    assert db.session.get(Mailing, mailing_id).failures == 0


@pytest.fixture
def deliveries(mailing_id):
    """Four queued deliveries of a sending mailing, and an open claim on the mailing."""
    from mobilise.sending.service import take_audience

    mailing_state.queue(mailing_id, utcnow())
    take_audience(mailing_id)
    db.session.add(SendClaim(id="c1", mailing_id=mailing_id, lease_until=utcnow() + timedelta(minutes=1)))
    db.session.commit()
    return sorted(db.session.scalars(db.select(Delivery.id).where(Delivery.mailing_id == mailing_id)))


def states(ids):
    db.session.expire_all()
    return [db.session.get(Delivery, i).status for i in ids]


def test_claim_takes_queued_and_due_deferred_only(mailing_id, deliveries):
    a, b, c, d = deliveries
    db.session.execute(
        db.update(Delivery).where(Delivery.id == b).values(status="deferred", retry_at=utcnow() + timedelta(hours=1))
    )
    db.session.execute(
        db.update(Delivery).where(Delivery.id == c).values(status="deferred", retry_at=utcnow() - timedelta(seconds=1))
    )
    db.session.execute(db.update(Delivery).where(Delivery.id == d).values(status="sent"))
    db.session.commit()
    assert delivery_state.claim(mailing_id, a, d, "c1", utcnow()) == [a, c]
    assert states(deliveries) == ["sending", "deferred", "sending", "sent"]
    assert delivery_state.claim(mailing_id, a, d, "c2", utcnow()) == []  # nothing twice


def test_settle_defer_release_only_touch_this_claims_sending_rows(mailing_id, deliveries):
    a, b, c, d = deliveries
    delivery_state.claim(mailing_id, a, c, "c1", utcnow())
    assert delivery_state.settle([a], "other", DeliveryStatus.FAILED, "550") == []  # not that claim's
    assert delivery_state.settle([a], "c1", DeliveryStatus.FAILED, "550") == [
        (a, db.session.get(Delivery, a).supporter_id)
    ]
    assert delivery_state.defer([b], "c1", "451", utcnow(), (60.0,)) == []
    delivery_state.release([c], "c1")
    db.session.commit()
    assert states(deliveries) == ["failed", "deferred", "queued", "queued"]
    assert delivery_state.settle([a], "c1", DeliveryStatus.SKIPPED, "x") == []  # failed stays failed
    deferred = db.session.get(Delivery, b)
    assert deferred.attempts == 1 and deferred.retry_at > utcnow() and deferred.error == "deferred: 451"


def test_a_delivery_deferred_past_its_retries_fails(mailing_id, deliveries):
    a = deliveries[0]
    for _ in range(2):
        db.session.execute(db.update(Delivery).where(Delivery.id == a).values(retry_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        delivery_state.claim(mailing_id, a, a, "c1", utcnow())
        failed = delivery_state.defer([a], "c1", "451", utcnow(), (1.0,))
        db.session.commit()
    assert failed == [db.session.get(Delivery, a).supporter_id]
    assert states([a]) == ["failed"] and db.session.get(Delivery, a).error == "deferred 2 times; the last: 451"


def test_the_journal_records_what_was_sent_and_applying_it_counts_each_once(mailing_id, deliveries):
    a, b, *_ = deliveries
    delivery_state.claim(mailing_id, a, b, "c1", utcnow())
    journal = delivery_state.Journal("c1")
    try:
        journal.sent(a)
        assert journal.renew(utcnow() + timedelta(minutes=2)) is True  # the claim still holds
    finally:
        journal.close()
    supporter = db.session.get(Delivery, a).supporter_id
    assert delivery_state.apply_sent("c1", utcnow()) == [supporter]
    assert delivery_state.apply_sent("c1", utcnow()) == []  # the journal was emptied: counted once
    db.session.commit()
    assert states([a, b]) == ["sent", "sending"]


def test_a_journal_whose_claim_was_recovered_says_so(mailing_id, deliveries):
    a, b, *_ = deliveries
    delivery_state.claim(mailing_id, a, b, "c1", utcnow())
    journal = delivery_state.Journal("c1")
    try:
        db.session.execute(db.delete(SendClaim).where(SendClaim.id == "c1"))  # recovered behind its back
        db.session.commit()
        journal.sent(a)  # found out now, or (on PostgreSQL) at the next step
        assert journal.renew(utcnow() + timedelta(minutes=2)) is False
    finally:
        journal.close()
    assert delivery_state.apply_sent("c1", utcnow()) == []


def test_requeue_skip_remaining_and_bounce(mailing_id, deliveries):
    a, b, c, d = deliveries
    delivery_state.claim(mailing_id, a, b, "c1", utcnow())
    db.session.execute(db.update(Delivery).where(Delivery.id == c).values(status="sent"))
    db.session.execute(db.update(Delivery).where(Delivery.id == d).values(status="deferred", retry_at=utcnow()))
    assert delivery_state.requeue("c1") == 2
    assert states([a, b]) == ["queued", "queued"]
    assert delivery_state.bounce(c) is True and delivery_state.bounce(a) is False
    assert delivery_state.skip_remaining(mailing_id, "case closed") == 3
    db.session.commit()
    assert states(deliveries) == ["skipped", "skipped", "bounced", "skipped"]
