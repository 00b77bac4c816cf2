"""The staff console (and the supporters list it shares with the API) against hostile query strings and
form values: each a 4xx with the page or the form shown again, never a 500, and every page bounded."""

import time
from datetime import date

import pytest

from mobilise.extensions import db
from mobilise.models import Case, Drive, Mailing

from .builders import bearer, make_case, make_supporters
from .test_console import hidden_fields, post_form, sign_in, two_offices  # noqa: F401 - the fixture


@pytest.fixture
def wildcards(two_offices):  # noqa: F811
    gb, _ = two_offices
    make_supporters(gb, 1, email="sale@example.org", first_name="50%_off")


def test_percent_and_underscore_are_letters_in_a_search_not_wildcards(client, wildcards):
    sign_in(client, "staff@uk.example.org")
    for q in ("%", "_", "0%_"):
        page = client.get("/console/supporters/", query_string={"q": q}).get_data(as_text=True)
        assert "1 supporter matching" in page and "sale@example.org" in page and "person0@" not in page
    assert "0 supporters matching" in client.get("/console/supporters/?q=%25%25").get_data(as_text=True)


def test_the_api_search_escapes_wildcards_too(client, wildcards):
    from .builders import token_for

    token = token_for("api@uk.example.org", office="GB")
    for q, total in (("%", 1), ("_", 1), ("person_", 0), ("person", 3)):
        found = client.get("/api/v1/offices/GB/supporters", query_string={"q": q}, headers=bearer(token)).json
        assert found["total"] == total, (q, found)


def test_a_nul_in_the_search_is_a_422_not_a_500(client, two_offices):  # noqa: F811
    sign_in(client, "staff@uk.example.org")
    response = client.get("/console/supporters/?q=a%00b")
    assert response.status_code == 422


def test_a_page_far_past_the_end_is_empty(client, two_offices):  # noqa: F811
    from .builders import token_for

    sign_in(client, "staff@uk.example.org")
    for page in ("99999999999999999", "9" * 40):
        response = client.get(f"/console/supporters/?page={page}")
        assert response.status_code == 200 and "person0@" not in response.get_data(as_text=True)
    token = token_for("api@uk.example.org", office="GB")
    found = client.get("/api/v1/offices/GB/supporters?page=2147483647", headers=bearer(token))
    assert found.status_code == 200 and found.json["items"] == [] and found.json["total"] == 3
    # Past what an INTEGER holds, the API's rule for every number: a 422 naming it.
    beyond = client.get("/api/v1/offices/GB/supporters?page=99999999999999999", headers=bearer(token))
    assert beyond.status_code == 422 and [d["field"] for d in beyond.json["details"]] == ["page"]


def test_an_unknown_office_is_a_404(client, two_offices):  # noqa: F811
    sign_in(client, "admin@example.org")
    for url in (
        "/console/supporters/?office=ZZ",
        "/console/supporters/?office=GBR",
        "/?office=ZZ",
        "/console/supporters/?office=%C3%A9%C3%A9",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/console/supporters/?office=es").status_code == 200


def _launched(gb):
    from mobilise.sequences.dispatch import start_drive

    case = make_case()
    start_drive(case, gb, {"office": "GB"})
    return case


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("deadline", "9999-12-31", "between the years 1900 and 2999"),
        ("tags", "x" * 300, "at most 100 characters"),
        ("languages", "en," * 400, "Field cannot be longer than 500 characters."),
    ],
)
def test_a_launch_form_with_a_value_out_of_bounds_comes_back_as_a_422(client, two_offices, field, value, says):  # noqa: F811
    case = make_case()
    sign_in(client, "staff@uk.example.org")
    response = post_form(client, f"/console/cases/{case.id}/launch", {"office": "GB", field: value})
    assert response.status_code == 422 and says in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Drive.id))) == 0


@pytest.mark.parametrize(
    "change, data, says",
    [
        ("extend", {"deadline": "9999-12-31"}, "between the years 1900 and 2999"),
        ("extend", {"deadline": "0001-01-01"}, "between the years 1900 and 2999"),
        ("update", {"body": "x" * 20_001}, "Field cannot be longer than 20000 characters."),
        ("close", {"outcome": "good_news", "body": "x" * 20_001}, "Field cannot be longer than 20000 characters."),
        ("close", {"outcome": "everyone freed"}, "Not a valid choice"),
    ],
)
def test_a_change_form_with_a_value_out_of_bounds_comes_back_as_a_422(client, two_offices, change, data, says):  # noqa: F811
    gb, _ = two_offices
    case = _launched(gb)
    sign_in(client, "admin@example.org")
    mailings = db.session.scalar(db.select(db.func.count(Mailing.id)))
    response = post_form(client, f"/console/cases/{case.id}/{change}", data)
    assert response.status_code == 422 and says in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Mailing.id))) == mailings
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "live"


def test_a_form_sent_right_is_still_taken(client, two_offices):  # noqa: F811
    gb, _ = two_offices
    case = _launched(gb)
    sign_in(client, "admin@example.org")
    confirm = post_form(client, f"/console/cases/{case.id}/update", {"body": "x" * 20_000})
    assert confirm.status_code == 200
    assert client.post(f"/console/cases/{case.id}/update", data=hidden_fields(confirm)).status_code == 302


def test_the_case_page_is_bounded_whatever_deadline_is_stored(client, two_offices):  # noqa: F811
    gb, _ = two_offices
    case = _launched(gb)
    far = date(9999, 12, 31)
    db.session.execute(db.update(Case).values(deadline=far))
    db.session.execute(db.update(Drive).values(deadline=far))
    db.session.commit()
    sign_in(client, "staff@uk.example.org")
    start = time.monotonic()
    response = client.get(f"/console/cases/{case.id}")
    assert response.status_code == 200 and time.monotonic() - start < 5
    assert response.get_data(as_text=True).count('class="bar"') <= 180
