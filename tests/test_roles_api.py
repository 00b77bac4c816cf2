"""Each role against each API call: a role below what the call needs answers 403 and changes nothing; a role
that holds it gets the call's own answer; another office's manager still gets a 404 for GB's data."""

import io
from pathlib import Path

import pytest

from mobilise.extensions import db
from mobilise.models import Supporter

from .builders import bearer, case_data
from .roles_world import ACTORS, CSV, SUPPORTER, allowed, build_world, expected_refusal, fingerprint

SEED_UA = Path(__file__).resolve().parents[1] / "mobilise" / "demo_data" / "ua-document.txt"
NEW_OFFICE = {
    "code": "FR",
    "name": "Amnesty France",
    "language": "fr",
    "timezone": "Europe/Paris",
    "sender": "a@fr.example.org",
}

# (method, path, body, the lowest role allowed, its answer then, whether the path names GB's own data).
# A body is JSON, "csv" (a multipart upload) or "ua" (a UA document as text/plain).
CALLS = [
    ("GET", "/offices", None, "viewer", 200, False),
    ("POST", "/offices", NEW_OFFICE, "admin", 201, False),
    ("PATCH", "/offices/GB", {"logo_url": "https://uk.example.org/logo.png"}, "manager", 200, True),
    ("GET", "/cases", None, "viewer", 200, False),
    ("GET", "/cases/{case}", None, "viewer", 200, False),
    ("POST", "/cases", case_data(title="A third case", reference="UA 55/25"), "admin", 201, False),
    ("POST", "/cases/import", "ua", "admin", 201, False),
    ("PATCH", "/cases/{case}", {"summary": "Eduardo Torres is still held."}, "admin", 200, False),
    ("POST", "/cases/{case}/updates", {"kind": "update", "body": "He was moved."}, "admin", 201, False),
    ("GET", "/cases/{case}/stats", None, "viewer", 200, False),
    ("GET", "/cases/{case}/schedule", None, "viewer", 200, False),
    ("GET", "/cases/{case}/audience?office=GB", None, "viewer", 200, True),
    ("GET", "/cases/{case}/preview?office=GB&stage=launch", None, "viewer", 200, True),
    ("POST", "/cases/{case}/test-email", {"office": "GB", "stage": "launch"}, "campaigner", 202, True),
    ("POST", "/cases/{fresh}/launch", {"office": "GB"}, "campaigner", 201, True),
    ("POST", "/mailings/{mailing}/resume", None, "campaigner", 200, True),
    ("GET", "/offices/GB/supporters", None, "manager", 200, True),  # the whole list, page by page, is an export
    ("POST", "/offices/GB/supporters", {"email": "another@gb.example.net"}, "campaigner", 200, True),
    ("POST", "/offices/GB/imports", "csv", "campaigner", 202, True),
    ("GET", "/imports/{import}", None, "campaigner", 200, True),
    ("POST", "/offices/GB/supporters/export", {"email": SUPPORTER}, "manager", 200, True),
    ("POST", "/offices/GB/supporters/erase", {"email": SUPPORTER}, "manager", 200, True),
    ("GET", "/offices/GB/reputation", None, "viewer", 200, True),
    ("GET", "/offices/GB/preferences", None, "viewer", 200, True),
    ("GET", "/offices/GB/suppressions", None, "manager", 200, True),
    ("POST", "/events/bounces", {"email": SUPPORTER, "type": "hard"}, "admin", 200, False),
    ("GET", "/audit", None, "manager", 200, False),  # each manager their own office's entries
    ("GET", "/audit?office=GB", None, "manager", 200, True),
    (
        "POST",
        "/offices/GB/webhooks",
        {"url": "http://127.0.0.1:9/other", "events": ["supporter.unsubscribed"]},
        "manager",
        201,
        True,
    ),
    ("GET", "/offices/GB/webhooks", None, "manager", 200, True),
    ("GET", "/offices/GB/webhooks/{webhook}/deliveries", None, "manager", 200, True),
    ("POST", "/offices/GB/webhooks/{webhook}/enable", None, "manager", 200, True),
    ("DELETE", "/offices/GB/webhooks/{webhook}", None, "manager", 204, True),
]


def call(client, world, token, method, path, body):
    url = "/api/v1" + path.format(**world.ids)
    headers = bearer(token)
    if body == "csv":
        return client.open(
            url,
            method=method,
            headers=headers,
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(CSV), "list.csv")},
        )
    if body == "ua":
        return client.open(url, method=method, headers=headers, content_type="text/plain", data=SEED_UA.read_text())
    return client.open(url, method=method, headers=headers, json=body)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    ("method", "path", "body", "lowest", "answer", "scoped"), CALLS, ids=[f"{m} {p}" for m, p, *_ in CALLS]
)
def test_each_role_against_each_api_call(app, client, relay, actor, method, path, body, lowest, answer, scoped):
    world = build_world()
    before = fingerprint()
    response = call(client, world, world.tokens[actor], method, path, body)
    refusal = expected_refusal(actor, lowest, scoped)
    if refusal is None:
        assert response.status_code == answer, (response.status_code, response.get_data(as_text=True)[:300])
    else:
        assert response.status_code == refusal, response.get_data(as_text=True)[:300]
        assert response.is_json and response.json["error"]
        assert fingerprint() == before  # refused: nothing changed
        assert relay.received == []  # and nothing was sent (a test email)


def test_the_table_covers_every_api_call(app):
    """A call added to the API without a row here fails this test: the table is each call, once."""
    listed = {(method, "/api/v1" + path.split("?")[0]) for method, path, *_ in CALLS}
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api_openapi.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    placeholders = {
        "{case}": "<int:case_id>",
        "{fresh}": "<int:case_id>",
        "{mailing}": "<int:mailing_id>",
        "{import}": "<int:import_id>",
        "{webhook}": "<int:webhook_id>",
        "GB": "<code>",
    }
    for short, rule in placeholders.items():
        listed = {(m, p.replace("/" + short, "/" + rule)) for m, p in listed}
    assert listed == routes


def test_an_export_answers_the_supporters_data_and_a_campaigners_export_answers_403(app, client):
    world = build_world()
    done = call(client, world, world.tokens["manager"], "POST", "/offices/GB/supporters/export", {"email": SUPPORTER})
    assert done.status_code == 200 and done.json["supporter"]["email"] == SUPPORTER
    refused = call(
        client, world, world.tokens["campaigner"], "POST", "/offices/GB/supporters/export", {"email": SUPPORTER}
    )
    assert refused.status_code == 403 and SUPPORTER not in refused.get_data(as_text=True)


def test_a_viewers_erase_leaves_the_supporter_and_a_managers_erases_them(app, client):
    world = build_world()
    refused = call(client, world, world.tokens["viewer"], "POST", "/offices/GB/supporters/erase", {"email": SUPPORTER})
    assert refused.status_code == 403
    assert db.session.scalar(db.select(Supporter).where(Supporter.email == SUPPORTER)) is not None
    erased = call(client, world, world.tokens["manager"], "POST", "/offices/GB/supporters/erase", {"email": SUPPORTER})
    assert erased.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(db.select(Supporter).where(Supporter.email == SUPPORTER)) is None


def test_a_viewer_reads_the_counts_an_office_can_give_read_only_access(app, client):
    world = build_world()
    stats = call(client, world, world.tokens["viewer"], "GET", "/cases/{case}/stats", None)
    assert stats.status_code == 200 and set(stats.json["offices"]) == {"GB"}
    listing = call(client, world, world.tokens["viewer"], "GET", "/offices/GB/supporters", None)
    assert listing.status_code == 403 and "person0" not in listing.get_data(as_text=True)


def test_the_description_lists_403_only_where_a_role_may_lack_the_call(app, client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "403" not in paths["/api/v1/cases/{case_id}/stats"]["get"]["responses"]  # every role reads
    assert "403" in paths["/api/v1/offices/{code}/supporters/erase"]["post"]["responses"]
    assert "403" in paths["/api/v1/cases"]["post"]["responses"]
    assert "403" not in paths["/api/v1/openapi.json"]["get"]["responses"]


@pytest.mark.parametrize("actor", ["viewer", "campaigner", "manager"])
def test_the_lowest_roles_in_the_table_are_the_policys(actor):
    """The table above says what roles.PERMISSIONS says (as a reader would check it row by row)."""
    from mobilise.auth.roles import PERMISSIONS

    lowest = {
        "read": "viewer",
        "campaign": "campaigner",
        "supporters": "campaigner",
        "export": "manager",
        "erase": "manager",
        "manage": "manager",
        "admin": "admin",
    }
    for permission, holders in PERMISSIONS.items():
        assert (actor in holders) == allowed(actor, lowest[permission]), permission
