"""Offices and supporters through the API, with office scoping and per-row rejects."""

import re

from mobilise.extensions import db
from mobilise.models import Office, Supporter

from .builders import bearer, make_office, token_for

OFFICE = {
    "code": "es",
    "name": "Amnistía España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "acciones@es.example.org",
}


def test_admin_adds_and_lists_offices(app, client):
    admin = token_for("admin@example.org", admin=True)
    response = client.post("/api/v1/offices", json=OFFICE, headers=bearer(admin))
    assert response.status_code == 201
    assert response.json["code"] == "ES" and response.json["reminder_days"] == [7, 2]
    assert response.json["send_hour"] == 10
    listed = client.get("/api/v1/offices", headers=bearer(admin)).json
    assert [o["code"] for o in listed] == ["ES"]


def test_office_errors_are_clear_and_write_nothing(app, client):
    admin = token_for("admin@example.org", admin=True)
    bad = client.post(
        "/api/v1/offices", json={**OFFICE, "timezone": "Mars/Olympus", "colour": "red"}, headers=bearer(admin)
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json["details"]}
    assert fields == {"timezone", "colour"}
    malformed = client.post("/api/v1/offices", data="{not json", content_type="application/json", headers=bearer(admin))
    assert malformed.status_code == 400 and malformed.json["error"] == "malformed JSON"
    missing = client.post("/api/v1/offices", json={"code": "FR"}, headers=bearer(admin))
    assert missing.status_code == 422
    assert {"name", "language", "timezone", "sender"} <= {d["field"] for d in missing.json["details"]}
    assert db.session.scalar(db.select(db.func.count(Office.id))) == 0
    client.post("/api/v1/offices", json=OFFICE, headers=bearer(admin))
    assert client.post("/api/v1/offices", json=OFFICE, headers=bearer(admin)).status_code == 409


def test_requests_without_a_valid_token_are_refused(app, client):
    assert client.get("/api/v1/offices").status_code == 401
    assert client.get("/api/v1/offices", headers=bearer("mob_forged")).status_code == 401


def test_an_office_token_cannot_add_offices(app, client):
    make_office()
    staff = token_for("staff@uk.example.org", office="GB")
    assert client.post("/api/v1/offices", json=OFFICE, headers=bearer(staff)).status_code == 403
    assert [o["code"] for o in client.get("/api/v1/offices", headers=bearer(staff)).json] == ["GB"]


def test_a_list_of_supporters_goes_in_except_the_bad_rows(app, client):
    make_office()
    staff = token_for("staff@uk.example.org", office="GB")
    rows = [
        {"email": "  Ana.Garcia@Example.ORG ", "first_name": "Ana", "tags": ["students"], "consent_source": "petition"},
        {"email": "not an address"},
        {"email": "ben@example.org", "language": "cy"},
        {"email": "ana.garcia@example.org", "last_name": "García"},  # the same person again: an update
        {"email": "zoe@example.org", "favourite": "tea"},
    ]
    response = client.post("/api/v1/offices/GB/supporters", json=rows, headers=bearer(staff))
    assert response.status_code == 200
    assert response.json["created"] == 2 and response.json["updated"] == 1
    assert [(r["index"], r["email"]) for r in response.json["rejected"]] == [
        (1, "not an address"),
        (4, "zoe@example.org"),
    ]
    ana = db.session.scalar(db.select(Supporter).where(Supporter.email == "ana.garcia@example.org"))
    assert (ana.first_name, ana.last_name, ana.tags, ana.status) == ("Ana", "García", ["students"], "subscribed")
    assert ana.consent_source == "petition" and ana.consent_at is not None

    single = client.post(
        "/api/v1/offices/GB/supporters", json={"email": "BEN@example.org", "first_name": "Ben"}, headers=bearer(staff)
    )
    assert single.json == {"created": 0, "updated": 1, "rejected": []}


def test_supporters_page_filter_and_search(app, client):
    make_office()
    staff = token_for("staff@uk.example.org", office="GB")
    rows = [
        {
            "email": f"p{n}@example.org",
            "first_name": "Rocío" if n == 4 else "Sam",
            "tags": ["students"] if n % 2 else [],
        }
        for n in range(7)
    ]
    client.post("/api/v1/offices/GB/supporters", json=rows, headers=bearer(staff))
    page = client.get("/api/v1/offices/GB/supporters?per_page=3&page=2", headers=bearer(staff)).json
    assert [s["email"] for s in page["items"]] == ["p3@example.org", "p4@example.org", "p5@example.org"]
    assert page["total"] == 7 and page["page"] == 2 and page["per_page"] == 3
    assert client.get("/api/v1/offices/GB/supporters?page=9", headers=bearer(staff)).json["items"] == []
    tagged = client.get("/api/v1/offices/GB/supporters?tag=students", headers=bearer(staff)).json
    assert tagged["total"] == 3
    found = client.get("/api/v1/offices/GB/supporters?q=roc", headers=bearer(staff)).json
    assert [s["email"] for s in found["items"]] == ["p4@example.org"]
    assert client.get("/api/v1/offices/GB/supporters?per_page=501", headers=bearer(staff)).status_code == 422


def test_every_page_and_every_after_give_each_supporter_once_oldest_first(app, client):
    """Pages past the middle are read from the end of the list, and `after` reads on from an id: neither may lose,
    repeat or reorder anyone, the last page partial included."""
    make_office()
    staff = bearer(token_for("staff@uk.example.org", office="GB"))
    emails = [f"p{n}@example.org" for n in range(11)]
    client.post("/api/v1/offices/GB/supporters", json=[{"email": e} for e in emails], headers=staff)
    pages = [client.get(f"/api/v1/offices/GB/supporters?per_page=3&page={n}", headers=staff).json for n in range(1, 6)]
    assert [s["email"] for page in pages for s in page["items"]] == emails
    assert [len(page["items"]) for page in pages] == [3, 3, 3, 2, 0] and {p["total"] for p in pages} == {11}
    walked, after = [], 0
    while items := client.get(f"/api/v1/offices/GB/supporters?per_page=4&after={after}", headers=staff).json["items"]:
        walked += [s["email"] for s in items]
        after = items[-1]["id"]
    assert walked == emails


def test_the_console_counts_a_broad_search_only_so_far_and_its_next_pages_find_everyone(app, client, monkeypatch):
    from mobilise.dashboard import supporters as console_supporters

    from .test_console import sign_in

    make_office()
    staff = bearer(token_for("staff@uk.example.org", office="GB"))
    emails = [f"sam{n}@example.org" for n in range(120)]
    client.post("/api/v1/offices/GB/supporters", json=[{"email": e} for e in emails], headers=staff)
    monkeypatch.setattr(console_supporters, "COUNT_UP_TO", 100)
    sign_in(client, "staff@uk.example.org")
    page = client.get("/console/supporters/?q=sam").get_data(as_text=True)
    assert "More than 100 supporters matching “sam”" in page
    assert "120 supporters." in client.get("/console/supporters/").get_data(as_text=True)  # the list: exact
    seen, path = [], "/console/supporters/?q=sam"
    while path:
        page = client.get(path).get_data(as_text=True)
        seen += re.findall(r">(sam\d+@example\.org)<", page)
        following = re.search(r'href="(/console/supporters/\?[^"]*after=\d+[^"]*)">Next page', page)
        path = following and following.group(1).replace("&amp;", "&")
    assert seen == emails


def test_another_offices_supporters_answer_404(app, client):
    make_office()
    make_office(code="ES", name="España", language="es", timezone="Europe/Madrid", sender="a@es.example.org")
    spain = token_for("staff@es.example.org", office="ES")
    assert client.get("/api/v1/offices/GB/supporters", headers=bearer(spain)).status_code == 404
    response = client.post("/api/v1/offices/GB/supporters", json={"email": "x@example.org"}, headers=bearer(spain))
    assert response.status_code == 404
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0
    assert client.get("/api/v1/offices/XX/supporters", headers=bearer(spain)).status_code == 404


def test_unknown_api_paths_and_methods_answer_json(app, client):
    admin = token_for("admin@example.org", admin=True)
    missing = client.get("/api/v1/nothing-here", headers=bearer(admin))
    assert missing.status_code == 404 and "error" in missing.json
    wrong = client.delete("/api/v1/offices", headers=bearer(admin))
    assert wrong.status_code == 405 and "error" in wrong.json
    assert client.get("/no-such-page").status_code == 404
