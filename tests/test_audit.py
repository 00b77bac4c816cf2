"""The audit trail: each audited act, done as staff do it through the API and the console, leaves one entry
naming who, what, to what, for which office and from which network; an act that fails leaves none."""

import io
from datetime import date, timedelta
from pathlib import Path

import pytest

from mobilise.extensions import db
from mobilise.models import AuditEntry, Mailing, Staff, Supporter

from .builders import bearer, case_data, make_case, make_office, make_supporters, token_for
from .test_console import PASSWORD, csrf_from, hidden_fields, post_form, sign_in

SEED = (
    Path(__file__).resolve().parents[1] / "mobilise" / "demo_data" / "ua-document.txt"
)  # the seed UA, in the repository
LOCAL_NETWORK = "127.0.0.0/24"  # the test client's address, 127.0.0.1, as the trail keeps it
FRANCE = {
    "code": "FR",
    "name": "Amnesty France",
    "language": "fr",
    "timezone": "Europe/Paris",
    "sender": "a@fr.example.org",
}


def entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def only(action: str) -> AuditEntry:
    found = entries(action)
    assert len(found) == 1, [(e.action, e.subject) for e in found]
    return found[0]


def staff_id(email: str) -> int:
    return db.session.scalar(db.select(Staff.id).where(Staff.email == email))


def assert_by(entry: AuditEntry, email: str, office: str | None):
    """Done by this account over the web, for this office."""
    assert (entry.actor, entry.staff_id) == (email, staff_id(email))
    assert (entry.office.code if entry.office else None) == office
    assert entry.network == LOCAL_NETWORK


@pytest.fixture
def offices(app):
    """GB with three supporters and its manager, FR with its own; an admin; each with an API token."""
    gb, fr = make_office(), make_office(**FRANCE)
    make_supporters(gb, 3)
    make_supporters(fr, 1)
    return {
        "gb": bearer(token_for("manager@uk.example.org", office="GB")),
        "fr": bearer(token_for("manager@fr.example.org", office="FR")),
        "admin": bearer(token_for("admin@example.org", admin=True)),
    }


# ---- sign-in and out


def test_a_sign_in_is_recorded_with_the_account_its_office_and_its_network(client, offices):
    assert sign_in(client, "manager@uk.example.org").status_code == 302
    assert_by(only("signin"), "manager@uk.example.org", "GB")


def test_a_failed_sign_in_is_recorded_with_the_address_tried_and_still_throttled(client, offices):
    token = csrf_from(client.get("/login"))
    codes = [
        client.post(
            "/login", data={"email": "Manager@UK.example.org", "password": f"guess{n}", "csrf_token": token}
        ).status_code
        for n in range(4)
    ]
    codes.append(
        client.post("/login", data={"email": "nobody@example.net", "password": "x", "csrf_token": token}).status_code
    )
    codes.append(
        client.post(
            "/login", data={"email": "manager@uk.example.org", "password": PASSWORD, "csrf_token": token}
        ).status_code
    )
    assert codes == [401] * 5 + [429]  # the throttle counts the failures as before; the sixth try is refused
    failed = entries("signin.failed")
    assert [e.actor for e in failed] == ["manager@uk.example.org"] * 4 + ["nobody@example.net"]
    # Nobody is signed in: no account is named, though the office whose account was tried sees the attempts.
    assert {e.staff_id for e in failed} == {None}
    assert [e.office.code if e.office else None for e in failed] == ["GB"] * 4 + [None]
    assert {e.network for e in failed} == {LOCAL_NETWORK}
    assert entries("signin") == []


def test_a_sign_out_is_recorded(client, offices):
    sign_in(client, "manager@uk.example.org")
    page = client.get("/logout")
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert_by(only("signout"), "manager@uk.example.org", "GB")


# ---- cases


def test_a_case_made_through_the_api_is_recorded(client, offices):
    made = client.post("/api/v1/cases", json=case_data(), headers=offices["admin"])
    assert made.status_code == 201
    entry = only("case.created")
    assert_by(entry, "admin@example.org", None)
    assert entry.subject == f"case {made.json['id']}" and entry.details["reference"] == "UA 53/25"


def test_a_ua_document_read_into_a_draft_is_recorded_and_a_junk_one_is_not(client, offices):
    junk = client.post("/api/v1/cases/import", data="Dear diary.", content_type="text/plain", headers=offices["admin"])
    assert junk.status_code == 422 and entries("case.imported") == []
    draft = client.post(
        "/api/v1/cases/import", data=SEED.read_text(), content_type="text/plain", headers=offices["admin"]
    )
    assert draft.status_code == 201
    entry = only("case.imported")
    assert_by(entry, "admin@example.org", None)
    assert entry.subject == f"case {draft.json['id']}" and entry.details["status"] == "draft"


def test_a_case_corrected_is_recorded_with_the_fields_changed_and_a_refused_one_is_not(client, offices):
    case = make_case()
    url = f"/api/v1/cases/{case.id}"
    refused = client.patch(
        url, json={"deadline": (date.today() + timedelta(days=60)).isoformat()}, headers=offices["admin"]
    )
    assert refused.status_code == 422 and entries("case.edited") == []
    assert (
        client.patch(url, json={"title": "A new title", "country": "Venezuela"}, headers=offices["admin"]).status_code
        == 200
    )
    entry = only("case.edited")
    assert_by(entry, "admin@example.org", None)
    assert entry.subject == f"case {case.id}" and entry.details["fields"] == ["country", "title"]
    assert "A new title" not in str(entry.details)  # the names of what changed, not the texts


def test_a_translation_added_in_the_console_is_recorded_as_an_edit(client, offices):
    case = make_case()
    sign_in(client, "admin@example.org")
    url = f"/console/cases/{case.id}/translations/fr"
    texts = {
        "title": "Cessez",
        "summary": "Résumé",
        "model_letter": "Nous demandons.",
        "pronoun": "il",
        "target_title": "Président",
        "target_salutation": "Monsieur",
    }
    answer = post_form(client, url, texts)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    entry = only("case.edited")
    assert_by(entry, "admin@example.org", None)
    assert entry.details["translations"] == ["fr"]


# ---- drives and what changes them


def test_a_launch_is_recorded_for_its_office_and_a_refused_launch_is_not(client, offices):
    case = make_case()
    url = f"/api/v1/cases/{case.id}/launch"
    past = client.post(url, json={"office": "GB", "deadline": "2020-01-01"}, headers=offices["gb"])
    assert past.status_code == 422
    launched = client.post(url, json={"office": "GB"}, headers=offices["gb"])
    assert launched.status_code == 201
    again = client.post(url, json={"office": "GB"}, headers=offices["gb"])
    assert again.status_code == 409
    entry = only("drive.launched")
    assert_by(entry, "manager@uk.example.org", "GB")
    assert entry.subject == f"drive {launched.json['id']}" and entry.details["case"] == case.id


def test_a_launch_from_the_console_is_recorded(client, offices):
    case = make_case()
    sign_in(client, "manager@uk.example.org")
    url = f"/console/cases/{case.id}/launch"
    confirm = post_form(client, url, {"office": "GB", "tags": "", "deadline": ""})
    assert entries("drive.launched") == []  # asked, not yet done
    assert client.post(url, data={**hidden_fields(confirm), "csrf_token": csrf_from(confirm)}).status_code == 302
    assert_by(only("drive.launched"), "manager@uk.example.org", "GB")


def test_an_update_posted_in_the_console_is_recorded(client, offices):
    case = make_case()
    client.post(f"/api/v1/cases/{case.id}/launch", json={"office": "GB"}, headers=offices["gb"])
    sign_in(client, "admin@example.org")
    url = f"/console/cases/{case.id}/update"
    confirm = post_form(client, url, {"body": "Eduardo was moved."})
    assert client.post(url, data=hidden_fields(confirm)).status_code == 302
    entry = only("case.updated")
    assert (entry.actor, entry.subject, entry.details["mailings"]) == ("admin@example.org", f"case {case.id}", 1)


def test_an_extension_and_a_closure_through_the_api_are_recorded_and_a_refused_change_is_not(client, offices):
    case = make_case()
    url = f"/api/v1/cases/{case.id}/updates"
    later = (case.deadline + timedelta(days=10)).isoformat()
    earlier = client.post(
        url, json={"kind": "deadline_extended", "deadline": case.deadline.isoformat()}, headers=offices["admin"]
    )
    assert earlier.status_code == 422
    assert (
        client.post(url, json={"kind": "deadline_extended", "deadline": later}, headers=offices["admin"]).status_code
        == 201
    )
    assert (
        client.post(url, json={"kind": "closed", "outcome": "no_further_action"}, headers=offices["admin"]).status_code
        == 201
    )
    closed_again = client.post(url, json={"kind": "closed", "outcome": "no_further_action"}, headers=offices["admin"])
    assert closed_again.status_code == 409
    extended = only("case.deadline_extended")
    assert_by(extended, "admin@example.org", None)
    assert extended.details["deadline"] == later
    closed = only("case.closed")
    assert (closed.subject, closed.details["outcome"]) == (f"case {case.id}", "no_further_action")


def test_a_paused_mailing_resumed_is_recorded_once(client, offices):
    case = make_case()
    client.post(
        f"/api/v1/cases/{case.id}/launch",
        json={"office": "GB", "send_at": "2999-01-01T00:00:00Z", "deadline": "2999-01-02"},
        headers=offices["gb"],
    )
    mailing = db.session.scalar(db.select(Mailing).where(Mailing.stage == "launch"))
    mailing.status, mailing.pause_reason = "paused", "too many refusals"
    db.session.commit()
    assert client.post(f"/api/v1/mailings/{mailing.id}/resume", headers=offices["gb"]).status_code == 200
    assert client.post(f"/api/v1/mailings/{mailing.id}/resume", headers=offices["gb"]).status_code == 409
    entry = only("mailing.resumed")
    assert_by(entry, "manager@uk.example.org", "GB")
    assert entry.subject == f"mailing {mailing.id}"


# ---- supporters


def test_supporters_added_through_the_api_are_recorded_as_counts(client, offices):
    rows = [{"email": "new@example.net", "first_name": "Nadia"}, {"email": "person0@gb.example.net"}, {"email": "nope"}]
    assert client.post("/api/v1/offices/GB/supporters", json=rows, headers=offices["gb"]).status_code == 200
    added = [
        e for e in entries("supporters.added") if e.staff_id is not None
    ]  # the builders' own are the command line's
    assert len(added) == 1
    assert_by(added[0], "manager@uk.example.org", "GB")
    assert added[0].details == {"created": 1, "updated": 1, "rejected": 1}
    assert "new@example.net" not in str(added[0].details) and "Nadia" not in str(added[0].details)


def test_an_import_queued_through_the_api_and_the_console_is_recorded(client, offices):
    csv = b"email,first_name\nimported@example.net,Ines\n"
    answer = client.post(
        "/api/v1/offices/GB/imports",
        headers=offices["gb"],
        data={"file": (io.BytesIO(csv), "list.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 202
    entry = only("import.started")
    assert_by(entry, "manager@uk.example.org", "GB")
    assert (entry.subject, entry.details) == (f"import {answer.json['id']}", {"bytes": len(csv)})

    sign_in(client, "manager@fr.example.org")
    page = client.get("/console/supporters/")
    client.post(
        "/console/supporters/import",
        data={"file": (io.BytesIO(csv), "fr.csv"), "csrf_token": csrf_from(page)},
        content_type="multipart/form-data",
    )
    console = entries("import.started")[-1]
    assert (console.actor, console.office.code) == ("manager@fr.example.org", "FR")


def test_an_export_is_recorded_by_supporter_id_and_one_of_an_unknown_address_is_not(client, offices):
    url = "/api/v1/offices/GB/supporters/export"
    assert client.post(url, json={"email": "unknown@example.net"}, headers=offices["gb"]).status_code == 404
    assert client.post(url, json={"email": "person1@gb.example.net"}, headers=offices["gb"]).status_code == 200
    entry = only("supporter.exported")
    assert_by(entry, "manager@uk.example.org", "GB")
    supporter_id = db.session.scalar(db.select(Supporter.id).where(Supporter.email == "person1@gb.example.net"))
    assert entry.subject == f"supporter {supporter_id}"


def test_an_erasure_is_recorded_without_anything_the_erasure_removed(client, offices):
    supporter = db.session.scalar(db.select(Supporter).where(Supporter.email == "person2@gb.example.net"))
    supporter_id = supporter.id
    url = "/api/v1/offices/GB/supporters/erase"
    assert client.post(url, json={"email": "unknown@example.net"}, headers=offices["gb"]).status_code == 404
    assert client.post(url, json={"email": "person2@gb.example.net"}, headers=offices["gb"]).status_code == 200
    entry = only("supporter.erased")
    assert_by(entry, "manager@uk.example.org", "GB")
    assert entry.subject == f"supporter {supporter_id}"
    row = db.session.execute(db.select(AuditEntry.__table__).where(AuditEntry.id == entry.id)).one()
    whole = " ".join(str(value) for value in row).lower()
    assert "person2" not in whole and "gb.example.net" not in whole  # neither the address nor the name


def test_the_suppression_list_downloaded_is_recorded(client, offices):
    answer = client.get("/api/v1/offices/GB/suppressions", headers=offices["gb"])
    assert answer.status_code == 200
    entry = only("suppressions.exported")
    assert_by(entry, "manager@uk.example.org", "GB")
    assert entry.subject == "office GB"


# ---- offices


def test_an_office_made_and_its_settings_changed_through_the_api_are_recorded(client, offices):
    made = client.post(
        "/api/v1/offices",
        json={**FRANCE, "code": "ES", "name": "Amnistía", "timezone": "Europe/Madrid"},
        headers=offices["admin"],
    )
    assert made.status_code == 201
    created = [e for e in entries("office.created") if e.staff_id is not None]
    assert len(created) == 1
    assert_by(created[0], "admin@example.org", "ES")
    bad = client.patch(
        "/api/v1/offices/GB", json={"logo_url": "http://insecure.example/logo.png"}, headers=offices["gb"]
    )
    assert bad.status_code == 422 and entries("office.settings_changed") == []
    changed = client.patch(
        "/api/v1/offices/GB", json={"logo_url": "https://uk.example.org/logo.png"}, headers=offices["gb"]
    )
    assert changed.status_code == 200
    entry = only("office.settings_changed")
    assert_by(entry, "manager@uk.example.org", "GB")
    assert entry.details == {"fields": ["logo_url"]}
