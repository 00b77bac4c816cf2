"""The case's life plans, moves and cancels its emails (a controlled clock where time matters)."""

import threading
from datetime import date, datetime, timedelta

import pytest

from mobilise.clock import utcnow
from mobilise.extensions import db
from mobilise.models import Action, Case, Delivery, Mailing, Supporter
from mobilise.sending import service as sending
from mobilise.sending import tick as dispatch
from mobilise.sequences import mailing_state
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.lifecycle import apply_change
from mobilise.sequences.service import launch
from mobilise.supporters.service import upsert_supporters

from .builders import TRANSLATED, bearer, make_case, make_office, make_supporters, token_for, translated

SPAIN = {
    "code": "ES",
    "name": "Amnistía España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "a@es.example.org",
}


def schedule(drive):
    db.session.refresh(drive)
    return [(m.stage, m.audience, m.send_at, m.status) for m in drive.mailings]


def reminders(drive, status="planned"):
    return [m.send_at for m in drive.mailings if m.stage == "reminder" and m.status == status]


def test_reminders_at_ten_in_london_across_the_end_of_british_summer_time(app):
    office = make_office()
    case = make_case(deadline="2027-11-03")  # BST ends on Sunday 31 October 2027
    drive = launch(case, office, {"office": "GB"}, now=datetime(2027, 10, 1))
    assert reminders(drive) == [datetime(2027, 10, 27, 9, 0), datetime(2027, 11, 1, 10, 0)]  # 10:00 BST, 10:00 GMT


def test_reminders_at_ten_in_madrid_across_the_spring_change(app):
    office = make_office(**SPAIN, send_hour=10)
    case = make_case(deadline="2027-03-30")  # CET becomes CEST at 02:00 on Sunday 28 March 2027
    drive = launch(case, office, {"office": "ES"}, now=datetime(2027, 3, 1))
    assert reminders(drive) == [datetime(2027, 3, 23, 9, 0), datetime(2027, 3, 28, 8, 0)]  # 10:00 CET, 10:00 CEST


def test_a_reminder_already_past_at_launch_is_not_planned(app):
    office = make_office(reminder_days=[7, 2])
    case = make_case(deadline="2027-06-10")
    drive = launch(case, office, {"office": "GB"}, now=datetime(2027, 6, 5, 12))
    assert reminders(drive) == [datetime(2027, 6, 8, 9, 0)]


def test_an_extension_moves_following_drives_replans_and_tells_those_who_have_not_acted(app):
    gb = make_office()
    es = make_office(**SPAIN)
    case = make_case(deadline="2027-06-10")
    follows = launch(case, gb, {"office": "GB"}, now=datetime(2027, 5, 1))
    own = launch(case, es, {"office": "ES", "deadline": "2027-06-20"}, now=datetime(2027, 5, 1))
    first_reminder = follows.mailings[1]
    first_reminder.status = "sent"  # the 7-day reminder went out on 3 June
    db.session.commit()

    made = apply_change(
        case,
        {"kind": "deadline_extended", "deadline": "2027-06-24", "body": "More time."},
        now=datetime(2027, 6, 5, 12),
    )

    assert (follows.deadline, own.deadline) == (date(2027, 6, 24), date(2027, 6, 20))
    assert reminders(follows, "cancelled") == [datetime(2027, 6, 8, 9, 0)]
    # Both reminder days again, the 7-day one even though one was sent before.
    assert reminders(follows) == [datetime(2027, 6, 17, 9, 0), datetime(2027, 6, 22, 9, 0)]
    assert [(m.stage, m.audience, m.body) for m in made if m.stage == "extension"] == [
        ("extension", "not_acted", "More time.")
    ]
    assert {m.drive_id for m in made} == {follows.id}  # the office with its own deadline gets no extension email
    assert [m.stage for m in own.mailings] == ["launch", "reminder", "reminder"]


def test_an_update_goes_to_everyone_in_every_live_drive(app, relay, run_jobs):
    gb = make_office()
    es = make_office(**SPAIN)
    make_supporters(gb, 2)
    make_supporters(es, 1)
    make_supporters(gb, 1, email="maria@gb.example.net", language="es")
    case = make_case(translations=translated("es", title="Cesen las detenciones"))
    start_drive(case, gb, {"office": "GB"})
    start_drive(case, es, {"office": "ES"})
    run_jobs()
    relay.received.clear()
    acted = db.session.scalar(db.select(Supporter).where(Supporter.email == "person0@gb.example.net"))
    db.session.add(Action(case_id=case.id, office_id=gb.id, supporter_id=acted.id))
    db.session.commit()

    apply_change(
        case,
        {
            "kind": "update",
            "body": "Eduardo Torres was seen by his family.",
            "translations": {"es": {"body": "Su familia ha podido ver a Eduardo Torres."}},
        },
    )
    run_jobs()
    assert relay.recipients() == [
        "maria@gb.example.net",
        "person0@es.example.net",
        "person0@gb.example.net",
        "person1@gb.example.net",
    ]
    by_address = {m["To"]: m for m in relay.messages()}
    english = by_address["person1@gb.example.net"]
    assert "Eduardo Torres was seen by his family." in english.get_body(("plain",)).get_content()
    # Spanish for the Spanish office (its language) and for María in the GB office (hers).
    for address in ("person0@es.example.net", "maria@gb.example.net"):
        assert by_address[address]["Subject"] == "Novedades: Cesen las detenciones"
        assert '<html lang="es">' in by_address[address].get_body(("html",)).get_content()
        spanish = by_address[address].get_body(("plain",)).get_content()
        assert "Su familia ha podido ver a Eduardo Torres." in spanish and "seen by his family" not in spanish


def test_an_update_written_only_in_english_reaches_spanish_readers_wholly_in_english(app, relay, run_jobs):
    es = make_office(**SPAIN)
    make_supporters(es, 1)
    case = make_case(translations=translated("es"))
    start_drive(case, es, {"office": "ES"})
    run_jobs()
    [launch_email] = relay.messages()
    assert launch_email["Subject"].startswith("Acción Urgente:")
    relay.received.clear()
    apply_change(case, {"kind": "update", "body": "Eduardo Torres was seen by his family."})
    run_jobs()
    [update] = relay.messages()
    text = update.get_body(("plain",)).get_content()
    assert update["Subject"] == f"News: {case.title}" and "Eduardo Torres was seen by his family." in text
    assert "Hola" not in text and TRANSLATED["es"]["title"] not in text  # no Spanish around the English words


def test_audiences_are_taken_when_sent(app, relay, run_jobs):
    office = make_office()
    make_supporters(office, 5)
    case = make_case()
    drive = start_drive(case, office, {"office": "GB"})
    run_jobs()
    relay.received.clear()
    people = {s.email.split("@")[0]: s for s in db.session.scalars(db.select(Supporter))}
    db.session.add(Action(case_id=case.id, office_id=office.id, supporter_id=people["person0"].id))
    db.session.commit()

    reminder = next(m for m in drive.mailings if m.stage == "reminder")
    mailing_state.queue_now(reminder.id, utcnow())
    sending.take_audience(reminder.id)  # the audience: person1..person4
    # Between taking the audience and sending: one acts, one unsubscribes, one bounces.
    db.session.add(Action(case_id=case.id, office_id=office.id, supporter_id=people["person1"].id))
    people["person2"].status = "unsubscribed"
    people["person3"].status = "bounced"
    db.session.commit()
    run_jobs()
    assert relay.recipients() == ["person4@gb.example.net"]
    statuses = dict(
        db.session.execute(
            db.select(Supporter.email, Delivery.status).join(Delivery).where(Delivery.mailing_id == reminder.id)
        ).all()
    )
    assert statuses == {
        "person1@gb.example.net": "skipped",
        "person2@gb.example.net": "skipped",
        "person3@gb.example.net": "skipped",
        "person4@gb.example.net": "sent",
    }

    relay.received.clear()
    apply_change(case, {"kind": "closed", "outcome": "good_news", "body": "Eduardo Torres is free."})
    run_jobs()
    assert relay.recipients() == ["person0@gb.example.net", "person1@gb.example.net"]  # those who acted


def test_two_dispatches_for_the_same_instant_queue_each_mailing_once(app, relay, run_jobs, redis_client):
    office = make_office()
    make_supporters(office, 2)
    case = make_case()
    send_at = datetime.combine(date.today() + timedelta(days=2), datetime.min.time())
    drive = start_drive(case, office, {"office": "GB", "send_at": send_at.isoformat() + "Z"})
    results = []

    def tick():
        with app.app_context():
            results.append(dispatch.tick(send_at)["queued"])
            db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert dispatch.tick(send_at)["queued"] == 0
    run_jobs()
    assert relay.recipients() == ["person0@gb.example.net", "person1@gb.example.net"]
    assert schedule(drive)[0][3] == "sent"


def launched_with_reminder_queued(relay, run_jobs):
    """A GB drive of two supporters after its launch went out, with its first reminder queued."""
    office = make_office()
    make_supporters(office, 2)
    case = make_case()
    drive = start_drive(case, office, {"office": "GB"})
    run_jobs()
    relay.received.clear()
    reminder = next(m for m in drive.mailings if m.stage == "reminder")
    mailing_state.queue_now(reminder.id, utcnow())
    return case, drive, reminder


def test_a_not_acted_mailing_is_never_sent_after_the_deadline_even_if_queued_before(app, relay, run_jobs):
    case, drive, reminder = launched_with_reminder_queued(relay, run_jobs)  # queued in time...
    drive.deadline = date.today() - timedelta(days=2)  # ...but the deadline passes before a worker takes it
    db.session.commit()
    run_jobs()
    assert relay.received == []
    assert db.session.get(Mailing, reminder.id).status == "cancelled"


def test_the_tick_cancels_expired_reminders(app):
    office = make_office()
    case = make_case(deadline=(date.today() + timedelta(days=10)).isoformat())
    drive = launch(case, office, {"office": "GB"}, now=utcnow())
    after_deadline = datetime.combine(case.deadline + timedelta(days=2), datetime.min.time())
    result = dispatch.tick(after_deadline)
    assert result["cancelled"] == 2
    assert [s for stage, _, _, s in schedule(drive) if stage == "reminder"] == ["cancelled", "cancelled"]


def test_closure_cancels_everything_planned_and_queued(app, relay, run_jobs):
    case, drive, _ = launched_with_reminder_queued(relay, run_jobs)

    made = apply_change(case, {"kind": "closed", "outcome": "no_further_action"})
    run_jobs()
    assert made == [] and relay.received == []
    assert [s for _, _, _, s in schedule(drive)] == ["sent", "cancelled", "cancelled"]
    assert db.session.get(Case, case.id).outcome == "no_further_action"


def test_lifecycle_errors_write_and_send_nothing(app, client, relay, run_jobs):
    make_office()
    case = make_case()
    admin = token_for("admin@example.org", admin=True)
    staff = token_for("staff@uk.example.org", office="GB")
    url = f"/api/v1/cases/{case.id}/updates"

    assert client.post(url, json={"kind": "update", "body": "x"}, headers=bearer(staff)).status_code == 403
    assert client.post(url, json={"kind": "rumour", "body": "x"}, headers=bearer(admin)).status_code == 422
    assert client.post(url, json={"kind": "update"}, headers=bearer(admin)).status_code == 422
    earlier = client.post(
        url, json={"kind": "deadline_extended", "deadline": case.deadline.isoformat()}, headers=bearer(admin)
    )
    assert earlier.status_code == 422 and earlier.json["details"][0]["field"] == "deadline"
    unknown = client.post(url, json={"kind": "closed", "outcome": "solved"}, headers=bearer(admin))
    assert unknown.status_code == 422
    assert client.post(url, json={"kind": "closed", "outcome": "good_news"}, headers=bearer(admin)).status_code == 201
    late = client.post(url, json={"kind": "update", "body": "too late"}, headers=bearer(admin))
    assert late.status_code == 409
    run_jobs()
    assert relay.received == []
    assert db.session.get(Case, case.id).deadline == case.deadline


@pytest.mark.parametrize("kind", ["update", "deadline_extended", "closed"])
def test_the_updates_api_answers_with_the_mailings_it_made(app, client, kind):
    office = make_office()
    case = make_case()
    admin = token_for("admin@example.org", admin=True)
    start_drive(case, office, {"office": "GB"})
    body = {
        "update": {"kind": "update", "body": "News."},
        "deadline_extended": {"kind": "deadline_extended", "deadline": (case.deadline + timedelta(days=7)).isoformat()},
        "closed": {"kind": "closed", "outcome": "good_news", "body": "Freed."},
    }[kind]
    response = client.post(f"/api/v1/cases/{case.id}/updates", json=body, headers=bearer(admin))
    assert response.status_code == 201
    stages = sorted(m["stage"] for m in response.json["mailings"])
    assert (
        stages
        == {"update": ["update"], "deadline_extended": ["extension", "reminder", "reminder"], "closed": ["outcome"]}[
            kind
        ]
    )
    schedule = client.get(f"/api/v1/cases/{case.id}/schedule", headers=bearer(admin)).json
    assert len(schedule) == 3 + len(stages)


def test_a_drive_can_reach_only_the_languages_it_names(app, client, relay, run_jobs):
    es = make_office(
        code="ES", name="Amnistía España", language="es", timezone="Europe/Madrid", sender="a@es.example.org"
    )
    upsert_supporters(
        es,
        [
            {"email": "castellano@example.org", "language": "es"},
            {"email": "sin-idioma@example.org"},  # reads the office's language
            {"email": "catala@example.org", "language": "ca"},
            {"email": "english@example.org", "language": "en"},
        ],
    )
    case = make_case()
    admin = token_for("admin@example.org", admin=True)
    launched = client.post(
        f"/api/v1/cases/{case.id}/launch", json={"office": "ES", "languages": ["es", "ca"]}, headers=bearer(admin)
    )
    assert launched.status_code == 201, launched.json
    assert launched.json["languages"] == ["ca", "es"]
    run_jobs()
    assert sorted(relay.recipients()) == ["castellano@example.org", "catala@example.org", "sin-idioma@example.org"]
    bad = client.post(
        f"/api/v1/cases/{make_case(reference='UA 2/26').id}/launch",
        json={"office": "ES", "languages": ["spanish!"]},
        headers=bearer(admin),
    )
    assert bad.status_code == 422 and bad.json["details"][0]["field"].startswith("languages")
