"""The counters staff read agree with the rows they count, whatever order things happen in."""

import time
from datetime import timedelta

from mobilise.counts.models import COUNTS
from mobilise.dashboard.recount import recount
from mobilise.dashboard.service import case_stats
from mobilise.extensions import db
from mobilise.models import Action, Delivery, Drive, Event, Mailing, Office, Supporter
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.lifecycle import apply_change
from mobilise.tracking.classify import CLICK_BURST
from mobilise.tracking.events import write_events

from .builders import make_case, make_office, make_supporters
from .test_stats import PHONE, links_for


def counted_from_rows(case) -> dict:
    """The stats, by set arithmetic over every delivery, event and action: what the counters must say."""
    drives = {d.id: d for d in db.session.scalars(db.select(Drive).where(Drive.case_id == case.id))}
    office_of = {d.id: db.session.get(Office, d.office_id).code for d in drives.values()}
    mailings = {m.id: m.drive_id for m in db.session.scalars(db.select(Mailing).where(Mailing.drive_id.in_(drives)))}
    deliveries = {d.id: d for d in db.session.scalars(db.select(Delivery).where(Delivery.mailing_id.in_(mailings)))}
    events = db.session.scalars(db.select(Event).where(Event.delivery_id.in_(deliveries))).all()
    actions = db.session.scalars(db.select(Action).where(Action.case_id == case.id)).all()

    per_mailing = {m: {name: set() for name in COUNTS} for m in mailings}
    per_office = {office_of[d]: {name: set() for name in COUNTS} for d in drives}
    emails = {code: {"sent": 0, "failed": 0, "bounced": 0} for code in per_office}
    for delivery in deliveries.values():
        mine, office = per_mailing[delivery.mailing_id], office_of[mailings[delivery.mailing_id]]
        if delivery.status != "skipped":
            mine["recipients"].add(delivery.id)
        if delivery.status in ("sent", "bounced"):  # the contract: sent at least one email
            per_office[office]["recipients"].add(delivery.supporter_id)
        for name, statuses in (("sent", ("sent", "bounced")), ("failed", ("failed",)), ("bounced", ("bounced",))):
            if delivery.status in statuses:
                mine[name].add(delivery.id)
                emails[office][name] += 1
    for event in events:
        delivery = deliveries[event.delivery_id]
        names = {
            "open": ["opened"] + ([] if event.machine else ["opened_human"]),
            "click": [] if event.machine else ["clicked"],
            "unsubscribe": ["unsubscribed"],
        }[event.kind]
        for name in names:
            per_mailing[delivery.mailing_id][name].add(delivery.id)
            per_office[office_of[mailings[delivery.mailing_id]]][name].add(delivery.supporter_id)
    for action in actions:
        if action.delivery_id in deliveries:
            per_mailing[deliveries[action.delivery_id].mailing_id]["acted"].add(action.id)
        per_office[db.session.get(Office, action.office_id).code]["acted"].add(action.supporter_id)

    offices = {
        code: {name: len(people) for name, people in sets.items()} | emails[code] for code, sets in per_office.items()
    }
    return {
        "offices": offices,
        "mailings": {m: {name: len(ids) for name, ids in sets.items()} for m, sets in per_mailing.items()},
    }


def read_an_hour_later():
    """Move the sending back an hour, so a click is not judged a scanner's for coming too soon."""
    for delivery in db.session.scalars(db.select(Delivery).where(Delivery.sent_at.is_not(None))):
        delivery.sent_at -= timedelta(hours=1)
    db.session.commit()


def counted(case) -> dict:
    stats = case_stats(case)
    return {"offices": stats["offices"], "mailings": {m["id"]: {n: m[n] for n in COUNTS} for m in stats["mailings"]}}


def test_counters_agree_with_the_rows_through_a_whole_drive(app, client, relay, run_jobs, flush):
    gb = make_office()
    es = make_office(code="ES", name="España", language="es", timezone="Europe/Madrid", sender="a@es.example.org")
    make_supporters(gb, 6)
    make_supporters(es, 2)
    relay.refuse["person5@gb.example.net"] = "550 5.1.1 no such mailbox"
    case = make_case()
    start_drive(case, gb, {"office": "GB"})
    start_drive(case, es, {"office": "ES"})
    run_jobs()
    read_an_hour_later()
    launch = {n: links_for(relay, f"person{n}@gb.example.net") for n in range(5)}

    client.get(launch[0]["open"], headers={"User-Agent": PHONE})
    client.get(launch[0]["open"], headers={"User-Agent": PHONE})
    client.get(launch[1]["open"], headers={"User-Agent": "Mozilla/5.0"})  # Apple's prefetch
    client.get(launch[0]["click"], headers={"User-Agent": PHONE})
    client.post(launch[0]["act"])
    client.post(launch[2]["unsubscribe"])
    client.post(links_for(relay, "person1@es.example.net")["act"])
    flush()

    relay.received.clear()
    apply_change(case, {"kind": "update", "body": "Eduardo Torres was seen by his family."})
    run_jobs()
    update = {n: links_for(relay, f"person{n}@gb.example.net") for n in (0, 1, 3)}
    client.get(update[0]["open"], headers={"User-Agent": PHONE})  # person0 again: once for the office
    client.get(update[1]["open"], headers={"User-Agent": PHONE})  # person1 opens for real this time
    client.post(update[3]["act"])
    flush()

    stats = counted(case)
    assert stats == counted_from_rows(case)
    gb_counts = stats["offices"]["GB"]
    # person5 refused once (a hard bounce: the update does not go to them); person2 left before the update
    assert (gb_counts["recipients"], gb_counts["sent"], gb_counts["failed"]) == (5, 9, 1)
    assert (gb_counts["opened"], gb_counts["opened_human"], gb_counts["clicked"]) == (2, 2, 1)
    assert (gb_counts["acted"], gb_counts["unsubscribed"]) == (2, 1)
    assert stats["offices"]["ES"]["acted"] == 1

    # Replayed events change nothing; a recount from the rows lands where the counters are.
    replay = db.session.scalars(db.select(Event).where(Event.event_key.is_not(None))).all()
    write_events(
        [(e.kind, e.delivery_id, e.link_id, "", e.network, e.created_at.timestamp(), e.event_key) for e in replay]
    )
    assert counted(case) == stats
    recount([d.id for d in db.session.scalars(db.select(Drive))])
    assert counted(case) == stats


def test_a_click_found_to_be_a_scanners_burst_stops_counting(app, client, relay, run_jobs, flush):
    office = make_office()
    make_supporters(office, 1)
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    read_an_hour_later()
    links = links_for(relay, "person0@gb.example.net")
    client.get(links["click"], headers={"User-Agent": PHONE})
    flush()  # written alone, it looks like a person's click
    assert case_stats(case)["offices"]["GB"]["clicked"] == 1
    client.get(links["act"], headers={"User-Agent": PHONE})  # the email's other link within seconds: a scanner
    flush()
    assert case_stats(case)["offices"]["GB"]["clicked"] == 0
    assert counted(case) == counted_from_rows(case)

    time.sleep(CLICK_BURST.total_seconds() + 0.1)  # later, the person opens the action page
    client.get(links["act"], headers={"User-Agent": PHONE})
    flush()
    assert case_stats(case)["offices"]["GB"]["clicked"] == 1
    assert counted(case) == counted_from_rows(case)


def test_the_recount_command_rebuilds_counts_loaded_behind_the_writers_back(app, client, relay, run_jobs, flush):
    office = make_office()
    make_supporters(office, 3)
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    # A bulk load straight into the tables, as a migration from another tool would do.
    supporters = db.session.scalars(db.select(Supporter).order_by(Supporter.id)).all()
    deliveries = db.session.scalars(db.select(Delivery).order_by(Delivery.id)).all()
    db.session.add_all(
        [
            Event(kind="open", delivery_id=deliveries[0].id),
            Event(kind="open", delivery_id=deliveries[1].id, machine=True),
        ]
    )
    db.session.add(
        Action(case_id=case.id, office_id=office.id, supporter_id=supporters[2].id, delivery_id=deliveries[2].id)
    )
    db.session.commit()
    assert counted(case) != counted_from_rows(case)

    result = app.test_cli_runner().invoke(args=["stats", "recount", "--case", str(case.id)])
    assert result.exit_code == 0, result.output
    assert "recounted 1 drive" in result.output
    db.session.expire_all()
    assert counted(case) == counted_from_rows(case)
    assert counted(case)["offices"]["GB"]["opened"] == 2
    assert case_stats(case)["actions_by_day"][0]["actions"] == 1
