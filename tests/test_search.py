"""Searching a list of supporters ignores accents and case, whichever way the person got on the list."""

import uuid

import psycopg
import pytest
from flask_migrate import upgrade

from mobilise import create_app
from mobilise.extensions import db
from mobilise.languages import fold
from mobilise.models import Supporter

from .builders import bearer, make_office, token_for
from .conftest import POSTGRES_URL
from .test_console import sign_in
from .test_signup import confirm_link

PEOPLE = [
    {"email": "rg@example.org", "first_name": "Rocío", "last_name": "García"},
    {"email": "z.m@example.org", "first_name": "Zoë", "last_name": "Müller"},
    {"email": "josé@example.org", "first_name": "José", "last_name": "Núñez"},
    {"email": "strasse@example.org", "first_name": "Anna", "last_name": "Straße"},
]


@pytest.fixture
def staff(app):
    office = make_office()
    token = token_for("staff@uk.example.org", office="GB")
    return office, token


def found(client, token, q: str) -> list[str]:
    answer = client.get("/api/v1/offices/GB/supporters", query_string={"q": q}, headers=bearer(token))
    assert answer.status_code == 200, answer.json
    return [s["email"] for s in answer.json["items"]]


def add(client, token, rows):
    answer = client.post("/api/v1/offices/GB/supporters", json=rows, headers=bearer(token))
    assert answer.status_code == 200 and not answer.json["rejected"], answer.json


def test_folding_drops_accents_and_case():
    assert fold("ROCÍO") == fold("Rocío") == fold("rocio") == "rocio"
    assert (fold("Zoë"), fold("Müller"), fold("Straße"), fold("ﬁona")) == ("zoe", "muller", "strasse", "fiona")
    assert fold("Юлия") == "юлия" and fold("李娜") == "李娜"  # no accents to drop: only the case is folded


def test_a_search_finds_names_and_addresses_whatever_their_accents_and_case(client, staff):
    _, token = staff
    add(client, token, PEOPLE)
    for q in ("Rocio", "rocio", "ROCÍO", "Rocío", "rocío garcía", "GARCIA", "  rocio  "):
        assert found(client, token, q) == ["rg@example.org"], q
    assert found(client, token, "Zoe") == found(client, token, "muller") == ["z.m@example.org"]
    assert found(client, token, "jose@") == found(client, token, "NUNEZ") == ["josé@example.org"]
    assert found(client, token, "strasse") == found(client, token, "STRASSE") == ["strasse@example.org"]
    assert found(client, token, "example.org") == [p["email"] for p in PEOPLE]
    # The name and the address are apart: a term does not run from one into the other.
    assert found(client, token, "garcia rocio") == []
    assert found(client, token, "%") == found(client, token, "r_cio") == []  # still letters, not wildcards
    assert found(client, token, "\u0301\u0308") == []  # accents alone fold to nothing: they find nobody


def test_an_accented_search_finds_a_name_stored_without_accents(client, staff):
    _, token = staff
    add(client, token, [{"email": "plain@example.org", "first_name": "Rocio", "last_name": "Munoz"}])
    assert found(client, token, "Rocío") == found(client, token, "MUÑOZ") == ["plain@example.org"]


def test_the_search_keeps_to_the_status_and_tag_filters_and_pages(client, staff):
    _, token = staff
    add(
        client,
        token,
        [
            {"email": f"r{n}@example.org", "first_name": "Rocío", "tags": ["students"] if n % 2 else []}
            for n in range(5)
        ],
    )
    answer = client.get(
        "/api/v1/offices/GB/supporters?q=rocio&tag=students&per_page=1&page=2", headers=bearer(token)
    ).json
    assert answer["total"] == 2 and [s["email"] for s in answer["items"]] == ["r3@example.org"]
    assert client.get("/api/v1/offices/GB/supporters?q=rocio&status=pending", headers=bearer(token)).json["total"] == 0


def test_a_new_name_is_found_and_the_old_one_is_not(client, staff):
    _, token = staff
    add(client, token, [PEOPLE[0]])
    add(client, token, [{"email": "rg@example.org", "first_name": "Inés"}])
    assert found(client, token, "ines garcia") == ["rg@example.org"]  # the last name it kept is still found
    assert found(client, token, "rocio") == []


def test_a_row_that_leaves_a_name_out_keeps_the_one_on_the_list_findable(client, staff):
    _, token = staff
    add(client, token, [PEOPLE[0], PEOPLE[1]])
    # In one batch: a row that changes only the last name, one that changes nothing searched, and a new person.
    add(
        client,
        token,
        [
            {"email": "rg@example.org", "last_name": "Pérez"},
            {"email": "z.m@example.org", "language": "de"},
            {"email": "new@example.org", "last_name": "Gómez"},
        ],
    )
    assert found(client, token, "rocio perez") == ["rg@example.org"]
    assert found(client, token, "garcia") == []
    assert found(client, token, "zoe muller") == ["z.m@example.org"]
    assert found(client, token, "gomez") == ["new@example.org"]


def test_an_imported_supporter_is_found_without_accents(client, staff, runner, tmp_path):
    _, token = staff
    add(client, token, [{"email": "ana@example.org", "first_name": "Ana", "last_name": "Old"}])
    path = tmp_path / "list.csv"
    path.write_text(
        "email,first_name,last_name\nrg@example.org,Rocío,Núñez\nANA@example.org,Ána,Léon\n", encoding="utf-8"
    )
    result = runner.invoke(args=["supporters", "import", str(path), "--office", "GB"])
    assert result.exit_code == 0 and "created 1, updated 1" in result.output, result.output
    assert found(client, token, "rocio nunez") == ["rg@example.org"]
    assert found(client, token, "ana leon") == ["ana@example.org"] and found(client, token, "old") == []

    # A file with no name columns updates people without losing their names to the search.
    path.write_text("email,language\nrg@example.org,es\n", encoding="utf-8")
    assert runner.invoke(args=["supporters", "import", str(path), "--office", "GB"]).exit_code == 0
    assert found(client, token, "NUNEZ") == ["rg@example.org"]


def test_a_signed_up_person_is_found_by_name_once_confirmed(client, staff, run_jobs, relay):
    _, token = staff
    client.post("/subscribe/GB", data={"email": "z.m@example.org", "first_name": "Zoë", "last_name": "Müller"})
    assert found(client, token, "z.m@") == ["z.m@example.org"]  # the address is on the list, pending
    assert found(client, token, "zoe") == []  # the name waits for the confirmation
    run_jobs()
    _, link = confirm_link(relay, "z.m@example.org")
    assert client.post(link).status_code == 200
    assert found(client, token, "zoe muller") == found(client, token, "ZOË") == ["z.m@example.org"]


def test_an_erased_supporter_is_not_found_and_keeps_nothing_to_search(client, staff):
    _, token = staff
    add(client, token, PEOPLE[:2])
    admin = token_for("admin@example.org", admin=True)
    erased = client.post("/api/v1/offices/GB/supporters/erase", json={"email": "rg@example.org"}, headers=bearer(admin))
    assert erased.status_code == 200
    assert found(client, token, "rocio") == found(client, token, "garcia") == []
    gone = db.session.scalar(db.select(Supporter).where(Supporter.erased_at.is_not(None)))
    assert gone.search_text is None
    assert found(client, token, "zoe") == ["z.m@example.org"]


def test_the_console_search_finds_a_name_typed_without_accents(client, staff):
    _, token = staff
    add(client, token, PEOPLE)
    sign_in(client, "staff@uk.example.org")
    page = client.get("/console/supporters/?q=rocio+garcia").get_data(as_text=True)
    assert "Rocío" in page and "rg@example.org" in page
    assert "z.m@example.org" not in page and "josé@example.org" not in page
    assert "josé@example.org" in client.get("/console/supporters/?q=JOSE").get_data(as_text=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """A database of its own, for a migration to run on from the start."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    else:
        name = f"mobilise_migration_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_makes_the_search_text_of_the_supporters_already_listed(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(revision="e15a0b5e55f1")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO offices (code, name, language, timezone, sender_email, postal_address, send_hour,"
                " reminder_days, created_at)"
                " VALUES ('GB', 'Amnesty UK', 'en', 'Europe/London', 'a@example.org', '', 10, '[7, 2]', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO supporters (office_id, email, first_name, last_name, status, status_changed_at, created_at)"
                " VALUES (1, 'rg@example.org', 'Rocío', 'García', 'subscribed', '2026-01-01', '2026-01-01'),"
                " (1, NULL, '', '', 'unsubscribed', '2026-01-01', '2026-01-01')"
            )
        upgrade()
        texts = db.session.execute(db.select(Supporter.email, Supporter.search_text).order_by(Supporter.id)).all()
        assert texts == [("rg@example.org", "rocio garcia\nrg@example.org"), (None, None)]
        db.session.remove()
        db.engine.dispose()
