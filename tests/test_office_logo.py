"""An office's logo: a checked image URL, set when the office is made or later, returned by the API."""

import pytest

from mobilise.extensions import db
from mobilise.models import Office

from .builders import bearer, make_office, token_for
from .conftest import run_flask

OFFICE = {
    "code": "es",
    "name": "Amnistía España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "acciones@es.example.org",
}
LOGO = "https://www.es.example.org/static/logo-email.png"


def test_an_office_has_no_logo_until_one_is_given(app, client):
    admin = token_for("admin@example.org", admin=True)
    made = client.post("/api/v1/offices", json=OFFICE, headers=bearer(admin))
    assert made.status_code == 201 and made.json["logo_url"] is None
    with_logo = client.post("/api/v1/offices", json={**OFFICE, "code": "PT", "logo_url": LOGO}, headers=bearer(admin))
    assert with_logo.status_code == 201 and with_logo.json["logo_url"] == LOGO
    listed = {o["code"]: o["logo_url"] for o in client.get("/api/v1/offices", headers=bearer(admin)).json}
    assert listed == {"ES": None, "PT": LOGO}


def test_an_office_sets_and_removes_its_own_logo(app, client):
    make_office()
    make_office(code="FR", sender="ua@fr.example.org")
    staff = token_for("staff@uk.example.org", office="GB")
    changed = client.patch("/api/v1/offices/gb", json={"logo_url": LOGO}, headers=bearer(staff))
    assert changed.status_code == 200 and changed.json["logo_url"] == LOGO
    assert db.session.scalar(db.select(Office.logo_url).where(Office.code == "GB")) == LOGO
    assert client.patch("/api/v1/offices/FR", json={"logo_url": LOGO}, headers=bearer(staff)).status_code == 404
    removed = client.patch("/api/v1/offices/GB", json={"logo_url": None}, headers=bearer(staff))
    assert removed.status_code == 200 and removed.json["logo_url"] is None


@pytest.mark.parametrize(
    "url",
    [
        "http://www.es.example.org/logo.png",  # every reader's client fetches it: HTTPS only, but on this machine
        "javascript:alert(1)",
        "ftp://example.org/logo.png",
        "logo.png",
        "https:///logo.png",
        "https://example.org/my logo.png",
        "https://user:secret@example.org/logo.png",
        "https://example.org:99999/l.png",
        "https://example.org/" + "a" * 2000,
    ],
)
def test_a_logo_url_that_no_mail_client_should_fetch_is_refused(app, client, url):
    admin = token_for("admin@example.org", admin=True)
    refused = client.post("/api/v1/offices", json={**OFFICE, "logo_url": url}, headers=bearer(admin))
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json["details"]] == ["logo_url"]
    make_office()
    assert client.patch("/api/v1/offices/GB", json={"logo_url": url}, headers=bearer(admin)).status_code == 422
    assert db.session.scalar(db.select(Office.logo_url).where(Office.code == "GB")) is None


def test_plain_http_is_taken_for_this_machine_only(app, client):
    admin = token_for("admin@example.org", admin=True)
    local = client.post(
        "/api/v1/offices", json={**OFFICE, "logo_url": "http://localhost:5000/logo.png"}, headers=bearer(admin)
    )
    assert local.status_code == 201 and local.json["logo_url"] == "http://localhost:5000/logo.png"


def test_the_settings_call_takes_nothing_else(app, client):
    make_office()
    admin = token_for("admin@example.org", admin=True)
    refused = client.patch("/api/v1/offices/GB", json={"logo_url": LOGO, "name": "Renamed"}, headers=bearer(admin))
    assert refused.status_code == 422 and [d["field"] for d in refused.json["details"]] == ["name"]
    assert client.patch("/api/v1/offices/GB", json=[LOGO], headers=bearer(admin)).status_code == 400


def test_the_command_line_takes_a_logo(app, service_env):
    done = run_flask(
        service_env,
        "office",
        "create",
        "IE",
        "--name",
        "Amnesty Ireland",
        "--language",
        "en",
        "--timezone",
        "Europe/Dublin",
        "--sender",
        "ua@ie.example.org",
        "--logo-url",
        LOGO,
    )
    assert done.returncode == 0, done.stderr
    db.session.expire_all()
    assert db.session.scalar(db.select(Office.logo_url).where(Office.code == "IE")) == LOGO
    refused = run_flask(
        service_env,
        "office",
        "create",
        "NL",
        "--name",
        "Amnesty NL",
        "--language",
        "nl",
        "--timezone",
        "Europe/Amsterdam",
        "--sender",
        "ua@nl.example.org",
        "--logo-url",
        "http://nl.example.org/l.png",
    )
    assert refused.returncode != 0 and "logo_url" in refused.stderr
