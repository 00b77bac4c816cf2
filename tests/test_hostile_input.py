"""Hostile input to the API and the pages: a clear 4xx naming the field, before anything is written."""

import http.client
import json
import threading

import pytest
from werkzeug.serving import make_server

from mobilise.extensions import db
from mobilise.models import Case, Drive, Office, Supporter, SupporterTag

from .builders import bearer, case_data, make_case, make_office, token_for
from .conftest import free_port


@pytest.fixture
def admin(app):
    return bearer(token_for("admin@example.org", admin=True))


def _fields(response) -> set:
    return {d["field"] for d in response.json["details"]}


def test_a_nul_or_an_over_long_tag_rejects_its_row_alone(app, client, admin):
    make_office()
    rows = [
        {"email": "ana@example.org", "first_name": "Ana"},
        {"email": "nul@example.org", "last_name": "Gar\x00cía"},
        {"email": "tags@example.org", "tags": ["t" * 300]},
        {"email": "ben@example.org", "tags": ["students"]},
    ]
    response = client.post("/api/v1/offices/GB/supporters", json=rows, headers=admin)
    # The NUL is caught before any row is looked at: the whole request names it, and nothing is written.
    assert response.status_code == 422
    assert _fields(response) == {"1.last_name"}
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0

    del rows[1]
    response = client.post("/api/v1/offices/GB/supporters", json=rows, headers=admin)
    assert response.status_code == 200
    assert response.json["created"] == 2
    assert [(r["index"], r["email"]) for r in response.json["rejected"]] == [(1, "tags@example.org")]
    assert "100 characters" in response.json["rejected"][0]["error"]
    emails = db.session.scalars(db.select(Supporter.email).order_by(Supporter.email)).all()
    assert emails == ["ana@example.org", "ben@example.org"]
    assert db.session.scalars(db.select(SupporterTag.tag)).all() == ["students"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/offices/GB/supporters?q=%00",
        "/api/v1/offices/GB/supporters?tag=a%00b",
        "/api/v1/offices/GB/supporters?st%00atus=x",
    ],
)
def test_a_nul_in_the_query_is_a_422_naming_the_field(app, client, admin, path):
    make_office()
    response = client.get(path, headers=admin)
    assert response.status_code == 422
    assert response.json["details"][0]["error"] == "must not contain a NUL character"


def test_a_nul_in_a_public_form_is_a_422_page(app, client):
    office = make_office()
    response = client.post(f"/subscribe/{office.code}", data={"email": "ana@example.org", "first_name": "a\x00b"})
    assert response.status_code == 422
    assert "text/html" in response.content_type and "first_name" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0


def _nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def test_json_nested_too_deep_is_a_422_on_every_json_call(app, client, admin):
    make_office()
    for body in ("[" * 100_000, json.dumps({"email": _nested(40)})):
        for path in ("/api/v1/offices", "/api/v1/offices/GB/supporters", "/api/v1/cases"):
            response = client.post(path, data=body, content_type="application/json", headers=admin)
            assert response.status_code == 422, (path, body[:20])
            assert "nested deeper" in response.json["details"][0]["error"]


@pytest.mark.parametrize("number, status", [("1e999", 422), ("NaN", 400), ("-Infinity", 400), ("9" * 30, 422)])
def test_numbers_no_column_holds(app, client, admin, number, status):
    body = (
        json.dumps(
            {
                "code": "FR",
                "name": "Amnesty France",
                "language": "fr",
                "timezone": "Europe/Paris",
                "sender": "ua@fr.example.org",
            }
        )[:-1]
        + f', "send_hour": {number}}}'
    )
    response = client.post("/api/v1/offices", data=body, content_type="application/json", headers=admin)
    assert response.status_code == status
    if status == 422:
        assert _fields(response) == {"send_hour"}
    assert db.session.scalar(db.select(db.func.count(Office.id))) == 0


def test_dates_outside_1900_to_2999_are_refused_by_name(app, client, admin):
    far = client.post("/api/v1/cases", json=case_data(deadline="9999-12-31"), headers=admin)
    assert far.status_code == 422 and _fields(far) == {"deadline"}
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 0

    make_office()
    case = make_case()
    for send_at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:00:00Z"):
        response = client.post(
            f"/api/v1/cases/{case.id}/launch", json={"office": "GB", "send_at": send_at}, headers=admin
        )
        assert response.status_code == 422 and _fields(response) == {"send_at"}, send_at
    response = client.post(
        f"/api/v1/cases/{case.id}/launch", json={"office": "GB", "deadline": "9999-12-31"}, headers=admin
    )
    assert response.status_code == 422 and _fields(response) == {"deadline"}
    response = client.post(
        f"/api/v1/cases/{case.id}/updates", json={"kind": "deadline_extended", "deadline": "3000-01-01"}, headers=admin
    )
    assert response.status_code == 422 and _fields(response) == {"deadline"}
    assert db.session.scalar(db.select(db.func.count(Drive.id))) == 0
    assert db.session.get(Case, case.id).deadline.year < 3000


def test_values_longer_than_their_columns_are_refused_by_name(app, client, admin):
    long_name = client.post(
        "/api/v1/offices",
        json={
            "code": "FR",
            "name": "Amnesty France",
            "language": "fr",
            "timezone": "Europe/Paris",
            "sender": "ua@fr.example.org",
            "sender_name": "S" * 300,
        },
        headers=admin,
    )
    assert long_name.status_code == 422 and _fields(long_name) == {"sender_name"}
    case = client.post(
        "/api/v1/cases",
        json=case_data(reference="R" * 51, country="C" * 101, target={"name": "Minister", "title": "T" * 301}),
        headers=admin,
    )
    assert case.status_code == 422
    assert _fields(case) == {"reference", "country", "target.title"}
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


def test_a_body_over_the_limit_is_413_before_it_is_read(app, client, admin):
    app.config["MAX_BODY_BYTES"] = 10_000
    make_office()
    rows = [{"email": f"p{n}@example.org"} for n in range(1000)]
    response = client.post("/api/v1/offices/GB/supporters", json=rows, headers=admin)
    assert response.status_code == 413
    assert response.json["details"] == {"limit": 10_000}
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0


def test_a_chunked_body_over_the_limit_is_413_on_a_real_server(app, admin):
    """No Content-Length to check up front: the server stops reading at the limit."""
    app.config["MAX_BODY_BYTES"] = 10_000
    make_office()
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        body = json.dumps([{"email": f"p{n}@example.org"} for n in range(1000)]).encode()
        connection.request(
            "POST",
            "/api/v1/offices/GB/supporters",
            body=iter([body[i : i + 4096] for i in range(0, len(body), 4096)]),
            headers={**admin, "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 413
    finally:
        server.shutdown()
        thread.join()
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0


def test_a_nul_in_an_address_to_export_or_erase_is_a_422(app, client, admin):
    make_office()
    for call in ("export", "erase"):
        response = client.post(
            f"/api/v1/offices/GB/supporters/{call}", json={"email": "ana\x00@example.org"}, headers=admin
        )
        assert response.status_code == 422 and _fields(response) == {"email"}


def test_an_id_no_column_holds_is_a_404(app, client, admin):
    for path in ("/api/v1/cases/99999999999999999999", "/api/v1/imports/2147483648", "/api/v1/cases/2147483648/stats"):
        response = client.get(path, headers=admin)
        assert response.status_code == 404, path
        assert response.is_json
