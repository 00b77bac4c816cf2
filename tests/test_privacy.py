"""Consent history, export and erasure, and the relay's bounce reports."""

from mobilise.extensions import db
from mobilise.models import Delivery, Office, Supporter
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.lifecycle import apply_change

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .test_stats import PHONE, links_for

SPAIN = {
    "code": "ES",
    "name": "Amnistía España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "a@es.example.org",
}


def supporter(email: str, office) -> Supporter:
    return db.session.scalar(db.select(Supporter).where(Supporter.email == email, Supporter.office_id == office.id))


def export(client, token, email, code="GB"):
    return client.post(f"/api/v1/offices/{code}/supporters/export", json={"email": email}, headers=bearer(token))


def person0_opens_and_acts(client, relay, run_jobs, flush):
    """GB launches a case to two supporters; person0 opens the email and acts. Returns the case."""
    office = make_office()
    make_supporters(office, 2, consent_source="street stall")
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    links = links_for(relay, "person0@gb.example.net")
    client.get(links["open"], headers={"User-Agent": PHONE})
    client.post(links["act"])
    flush()
    return case


def test_consent_is_kept_as_a_history_and_an_import_never_resubscribes(app, client, relay, run_jobs):
    office = make_office()
    staff = token_for("staff@uk.example.org", office="GB")
    client.post(
        "/api/v1/offices/GB/supporters",
        headers=bearer(staff),
        json={"email": "Rocio@Example.org", "first_name": "Rocío", "consent_source": "petition, 3 March"},
    )
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    client.post(links_for(relay, "rocio@example.org")["unsubscribe"], environ_base={"REMOTE_ADDR": "203.0.113.77"})
    # Staff import an old spreadsheet that still lists her, with a consent from years ago.
    again = client.post(
        "/api/v1/offices/GB/supporters",
        headers=bearer(staff),
        json={"email": "rocio@example.org", "consent_source": "old paper form"},
    )
    assert again.json == {"created": 0, "updated": 1, "rejected": []}

    held = export(client, staff, "ROCIO@example.org ").json
    assert held["supporter"]["status"] == "unsubscribed"
    steps = [(h["change"], h["source"], h["network"]) for h in held["consent_history"]]
    assert steps == [
        ("given", "petition, 3 March", None),
        ("withdrawn", "unsubscribe link in an email", "203.0.113.0/24"),
    ]
    assert "203.0.113.77" not in str(held)
    assert [e["stage"] for e in held["emails"]] == ["launch"] and held["unsubscribes"]


def test_export_holds_what_was_sent_opened_clicked_and_done(app, client, relay, run_jobs, flush):
    make_office(**SPAIN)
    case = person0_opens_and_acts(client, relay, run_jobs, flush)
    staff = token_for("staff@uk.example.org", office="GB")
    held = export(client, staff, "person0@gb.example.net").json
    assert held["supporter"]["email"] == "person0@gb.example.net"
    assert held["emails"][0]["case"] == case.reference and held["emails"][0]["status"] == "sent"
    assert len(held["opens"]) == 1 and held["opens"][0]["by"] == "person"
    assert held["actions"] == [{"case": case.reference, "at": held["actions"][0]["at"]}]
    # Another office's staff cannot ask, and an unknown address is a clear 404.
    spain = token_for("staff@es.example.org", office="ES")
    assert export(client, spain, "person0@gb.example.net").status_code == 404
    assert export(client, spain, "person0@gb.example.net", code="ES").status_code == 404
    assert export(client, staff, "nobody@example.org").status_code == 404
    malformed = export(client, staff, "not an address")
    assert malformed.status_code == 422 and malformed.json["details"][0]["field"] == "email"


def test_erasure_removes_the_person_and_keeps_the_counts(app, client, relay, run_jobs, flush, runner):
    case = person0_opens_and_acts(client, relay, run_jobs, flush)
    office = db.session.scalar(db.select(Office))
    admin = token_for("admin@example.org", admin=True)
    before = client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(admin)).json["offices"]["GB"]

    erased = client.post(
        "/api/v1/offices/GB/supporters/erase", json={"email": "person0@gb.example.net"}, headers=bearer(admin)
    )
    assert erased.status_code == 200
    gone = db.session.scalar(db.select(Supporter).where(Supporter.erased_at.is_not(None)))
    assert (gone.email, gone.first_name, gone.consent_source, gone.status) == (None, "", None, "unsubscribed")
    assert export(client, admin, "person0@gb.example.net").status_code == 404
    after = client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(admin)).json["offices"]["GB"]
    assert after == before and after["acted"] == 1 and after["opened"] == 1

    # The address comes back: a new supporter, with a consent of its own.
    back = client.post(
        "/api/v1/offices/GB/supporters",
        headers=bearer(admin),
        json={"email": "person0@gb.example.net", "consent_source": "new sign-up"},
    )
    assert back.json["created"] == 1
    history = export(client, admin, "person0@gb.example.net").json["consent_history"]
    assert [(h["change"], h["source"]) for h in history] == [("given", "new sign-up")]

    # The CLI does the same for the other person.
    result = runner.invoke(args=["supporters", "erase", "person1@gb.example.net", "--office", "GB", "--yes"])
    assert result.exit_code == 0 and "erased" in result.output
    assert supporter("person1@gb.example.net", office) is None
    missing = runner.invoke(args=["supporters", "export", "person1@gb.example.net", "--office", "GB"])
    assert missing.exit_code != 0 and "no supporter of GB has that address" in missing.output


def test_a_hard_bounce_by_message_id_stops_the_mail_and_counts(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 2)
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    message_id = next(m for m in relay.messages() if m["To"] == "person0@gb.example.net")["Message-ID"]
    admin = token_for("admin@example.org", admin=True)
    reported = client.post(
        "/api/v1/events/bounces",
        headers=bearer(admin),
        json={"message_id": message_id, "type": "hard", "detail": "550 5.1.1 user unknown"},
    )
    assert reported.status_code == 200 and reported.json == {"supporters": 1, "stopped": 1}
    assert supporter("person0@gb.example.net", office).status == "bounced"
    stats = client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(admin)).json
    assert stats["offices"]["GB"]["bounced"] == 1 and stats["offices"]["GB"]["sent"] == 2

    relay.received.clear()
    apply_change(case, {"kind": "update", "body": "Eduardo Torres was moved to another prison."})
    run_jobs()
    assert relay.recipients() == ["person1@gb.example.net"]


def test_a_complaint_by_address_stops_the_mail_in_every_office(app, client):
    gb, es = make_office(), make_office(**SPAIN)
    for office in (gb, es):
        make_supporters(office, 1, email="shared@example.org")
    admin = token_for("admin@example.org", admin=True)
    reported = client.post(
        "/api/v1/events/bounces", json={"email": "Shared@Example.org", "type": "complaint"}, headers=bearer(admin)
    )
    assert reported.json == {"supporters": 2, "stopped": 2}
    assert {supporter("shared@example.org", o).status for o in (gb, es)} == {"complained"}


def test_soft_bounces_stop_the_mail_on_the_third(app, client):
    office = make_office()
    make_supporters(office, 1, email="full@example.org")
    admin = token_for("admin@example.org", admin=True)
    for expected in ("subscribed", "subscribed", "bounced"):
        client.post(
            "/api/v1/events/bounces",
            json={"email": "full@example.org", "type": "soft", "detail": "452 mailbox full"},
            headers=bearer(admin),
        )
        assert supporter("full@example.org", office).status == expected


def test_bounce_reports_are_checked_and_for_admins(app, client):
    make_office()
    admin = token_for("admin@example.org", admin=True)
    staff = token_for("staff@uk.example.org", office="GB")
    post = lambda body, token=admin: client.post("/api/v1/events/bounces", json=body, headers=bearer(token))  # noqa: E731
    assert post({"email": "a@example.org", "type": "hard"}, staff).status_code == 403
    assert post({"email": "a@example.org", "type": "bounced"}).status_code == 422
    assert post({"type": "hard"}).status_code == 422
    assert post({"message_id": "<delivery.999999@uk.example.org>", "type": "hard"}).status_code == 404
    assert post({"message_id": "<abc@elsewhere.example>", "type": "hard"}).status_code == 404
    assert post({"email": "nobody@example.org", "type": "hard"}).status_code == 404
    assert db.session.scalar(db.select(db.func.count(Delivery.id))) == 0
