"""Cases, launches and schedules through the API."""

from datetime import date, timedelta
from pathlib import Path

from mobilise.extensions import db
from mobilise.models import Case, Drive, Mailing

from .builders import bearer, case_data, make_case, make_office, make_supporters, token_for

SEED = (
    Path(__file__).resolve().parents[1] / "mobilise" / "demo_data" / "ua-document.txt"
)  # the seed UA, in the repository
if not SEED.exists():
    SEED = Path(__file__).resolve().parents[1] / "mobilise" / "demo_data" / "ua-document.txt"


def test_admin_creates_a_live_case_and_anyone_reads_it(app, client):
    admin = token_for("admin@example.org", admin=True)
    data = case_data(translations={"es": {"title": "Cesen las detenciones"}})
    response = client.post("/api/v1/cases", json=data, headers=bearer(admin))
    assert response.status_code == 201
    created = response.json
    assert created["status"] == "live" and created["slug"].startswith("ua-53-25-cease-detentions")
    assert created["days_left"] == 30
    assert created["translations"]["es"]["title"] == "Cesen las detenciones"
    make_office()
    staff = token_for("staff@uk.example.org", office="GB")
    assert client.get(f"/api/v1/cases/{created['id']}", headers=bearer(staff)).json["title"] == data["title"]
    assert [c["id"] for c in client.get("/api/v1/cases", headers=bearer(staff)).json] == [created["id"]]
    assert client.get("/api/v1/cases/999", headers=bearer(staff)).status_code == 404


def test_case_errors(app, client):
    admin = token_for("admin@example.org", admin=True)
    past = client.post("/api/v1/cases", json=case_data(deadline="2020-01-01"), headers=bearer(admin))
    assert past.status_code == 422 and past.json["details"] == [{"field": "deadline", "error": "is in the past"}]
    data = case_data()
    del data["model_letter"]
    data["target"] = {}
    missing = client.post("/api/v1/cases", json=data, headers=bearer(admin))
    assert {d["field"] for d in missing.json["details"]} == {"model_letter", "target.name"}
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 0
    make_office()
    staff = token_for("staff@uk.example.org", office="GB")
    assert client.post("/api/v1/cases", json=case_data(), headers=bearer(staff)).status_code == 403


def test_a_ua_document_becomes_a_draft_case(app, client):
    admin = token_for("admin@example.org", admin=True)
    response = client.post(
        "/api/v1/cases/import", data=SEED.read_text(), content_type="text/plain", headers=bearer(admin)
    )
    assert response.status_code == 201
    case = response.json
    assert case["status"] == "draft"
    assert case["title"] == "Cease detentions and attacks on defenders"
    assert case["target"]["name"] == "Nicolás Maduro"
    assert case["target"]["title"] == "President of the Republic"
    assert case["target"]["salutation"] == "Mr Nicolás Maduro"
    assert case["target_language"] == "es" and case["deadline"] == "2025-11-21"
    assert case["model_letter"].startswith("We take note") and "Yours sincerely" not in case["model_letter"]
    assert case["pronoun"] == "they/them"

    junk = client.post(
        "/api/v1/cases/import", data="Dear diary, nothing happened.", content_type="text/plain", headers=bearer(admin)
    )
    assert junk.status_code == 422
    assert junk.json["details"] == ["title", "target", "model_letter", "deadline"]


def test_launch_plans_the_launch_and_the_reminders(app, client, run_jobs, relay):
    office = make_office()
    make_supporters(office, 2)
    case = make_case(deadline=(date.today() + timedelta(days=20)).isoformat())
    staff = token_for("staff@uk.example.org", office="GB")
    response = client.post(f"/api/v1/cases/{case.id}/launch", json={"office": "GB"}, headers=bearer(staff))
    assert response.status_code == 201
    drive = response.json
    assert drive["office"] == "GB" and drive["deadline"] == case.deadline.isoformat()
    stages = [(m["stage"], m["audience"]) for m in drive["mailings"]]
    assert stages == [("launch", "all"), ("reminder", "not_acted"), ("reminder", "not_acted")]
    # Reminders at 10:00 London time, 7 and 2 days before the deadline.
    reminder_times = [m["send_at"] for m in drive["mailings"][1:]]
    for days, sent_at in zip((7, 2), reminder_times):
        day = case.deadline - timedelta(days=days)
        assert sent_at.startswith(day.isoformat() + "T")
        assert sent_at.endswith(("T10:00:00Z", "T09:00:00Z"))

    run_jobs()
    assert len(relay.received) == 2
    schedule = client.get(f"/api/v1/cases/{case.id}/schedule", headers=bearer(staff)).json
    assert [m["status"] for m in schedule] == ["sent", "planned", "planned"]


def test_launch_errors(app, client):
    make_office()
    make_office(code="ES", name="España", language="es", timezone="Europe/Madrid", sender="a@es.example.org")
    case = make_case()
    staff = token_for("staff@uk.example.org", office="GB")
    url = f"/api/v1/cases/{case.id}/launch"
    assert client.post(url, json={"office": "ES"}, headers=bearer(staff)).status_code == 404
    assert client.post(url, json={"office": "ZZ"}, headers=bearer(staff)).status_code == 404
    past = client.post(url, json={"office": "GB", "deadline": "2020-01-01"}, headers=bearer(staff))
    assert past.status_code == 422
    assert client.post(url, json={"office": "GB", "colour": "red"}, headers=bearer(staff)).status_code == 422
    assert db.session.scalar(db.select(db.func.count(Drive.id))) == 0
    assert (
        client.post(url, json={"office": "GB", "send_at": "2099-01-01T00:00:00Z"}, headers=bearer(staff)).status_code
        == 422
    )
    assert client.post(url, json={"office": "GB"}, headers=bearer(staff)).status_code == 201
    again = client.post(url, json={"office": "GB"}, headers=bearer(staff))
    assert again.status_code == 409 and "already launched" in again.json["error"]
    assert db.session.scalar(db.select(db.func.count(Mailing.id))) == 3


def test_a_launch_with_send_at_waits_for_the_dispatch(app, client, runner, run_jobs, relay):
    office = make_office()
    make_supporters(office, 1)
    case = make_case()
    admin = token_for("admin@example.org", admin=True)
    send_at = (date.today() + timedelta(days=3)).isoformat() + "T08:00:00Z"
    response = client.post(
        f"/api/v1/cases/{case.id}/launch", json={"office": "GB", "send_at": send_at}, headers=bearer(admin)
    )
    assert response.json["mailings"][0]["send_at"] == send_at
    run_jobs()
    assert relay.received == []

    early = runner.invoke(args=["dispatch", "--at", send_at.replace("08:00", "07:59")])
    assert "queued 0" in early.output
    due = runner.invoke(args=["dispatch", "--at", send_at])
    assert "queued 1" in due.output
    again = runner.invoke(args=["dispatch", "--at", send_at])
    assert "queued 0" in again.output  # a second tick for the same instant queues nothing twice
    run_jobs()
    assert len(relay.received) == 1


def test_a_draft_is_reviewed_then_published_and_only_then_launched(app, client):
    make_office()
    admin = token_for("admin@example.org", admin=True)
    draft = client.post(
        "/api/v1/cases/import", data=SEED.read_text(), content_type="text/plain", headers=bearer(admin)
    ).json
    url = f"/api/v1/cases/{draft['id']}"
    assert client.post(f"{url}/launch", json={"office": "GB"}, headers=bearer(admin)).status_code == 409
    stale = client.patch(url, json={"status": "live"}, headers=bearer(admin))
    assert stale.status_code == 422 and stale.json["details"][0]["field"] == "deadline"  # the seed's deadline passed
    assert client.get(url, headers=bearer(admin)).json["status"] == "draft"

    deadline = (date.today() + timedelta(days=21)).isoformat()
    edited = client.patch(
        url,
        json={
            "deadline": deadline,
            "reference": "UA 53/25",
            "status": "live",
            "target": {"title": "Presidente de la República"},
            "translations": {"es": {"title": "Cesen las detenciones"}},
        },
        headers=bearer(admin),
    )
    assert edited.status_code == 200
    case = edited.json
    assert (case["status"], case["deadline"], case["reference"]) == ("live", deadline, "UA 53/25")
    assert case["target"] == {**draft["target"], "title": "Presidente de la República"}
    assert case["translations"]["es"]["title"] == "Cesen las detenciones"
    moved = client.patch(url, json={"deadline": (date.today() + timedelta(days=40)).isoformat()}, headers=bearer(admin))
    assert moved.status_code == 422  # a live case's deadline moves by an extension, which tells supporters
    assert client.patch(url, json={"title": None}, headers=bearer(admin)).status_code == 422
    assert client.post(f"{url}/launch", json={"office": "GB"}, headers=bearer(admin)).status_code == 201
