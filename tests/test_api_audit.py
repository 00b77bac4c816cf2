"""GET /api/v1/audit: newest first, a page at a time; an office's manager sees their office's, an admin every one."""

from datetime import datetime, timedelta

import pytest

from mobilise.extensions import db
from mobilise.models import AuditEntry, Office

from .builders import bearer, make_office, token_for
from .test_audit import FRANCE, LOCAL_NETWORK

URL = "/api/v1/audit"


@pytest.fixture
def staff(app):
    make_office(), make_office(**FRANCE)
    return {
        "gb": bearer(token_for("manager@uk.example.org", office="GB")),
        "fr": bearer(token_for("manager@fr.example.org", office="FR")),
        "campaigner": bearer(token_for("campaigner@uk.example.org", office="GB", role="campaigner")),
        "viewer": bearer(token_for("viewer@uk.example.org", office="GB", role="viewer")),
        "admin": bearer(token_for("admin@example.org", admin=True)),
    }


def signins(office_code: str, count: int, start: datetime):
    """`count` sign-ins of the office's manager, a minute apart."""
    office = db.session.scalar(db.select(Office).where(Office.code == office_code))
    db.session.add_all(
        AuditEntry(
            at=start + timedelta(minutes=n),
            actor=f"manager@{office_code.lower()}.example.org",
            office_id=office.id,
            action="signin",
            details={},
            network="198.51.100.0/24",
        )
        for n in range(count)
    )
    db.session.commit()


def test_an_office_manager_sees_only_their_office_and_another_office_is_not_found(client, staff):
    signins("GB", 3, datetime(2026, 11, 1))
    france = client.get(URL, headers=staff["fr"])
    assert france.status_code == 200
    assert france.json["total"] == len(france.json["items"]) > 0
    assert {item["office"] for item in france.json["items"]} == {"FR"}
    assert "manager@uk.example.org" not in str(france.json)
    assert client.get(URL + "?office=GB", headers=staff["fr"]).status_code == 404
    assert client.get(URL + "?office=fr", headers=staff["fr"]).json == france.json
    uk = client.get(URL, headers=staff["gb"]).json
    assert {item["office"] for item in uk["items"]} == {"GB"} and uk["total"] > 3


def test_campaigners_and_viewers_may_not_read_the_trail(client, staff):
    assert client.get(URL, headers=staff["campaigner"]).status_code == 403
    assert client.get(URL, headers=staff["viewer"]).status_code == 403
    assert client.get(URL).status_code == 401


def test_an_admin_sees_every_office_or_the_one_asked(client, staff):
    everything = client.get(URL + "?per_page=500", headers=staff["admin"]).json
    offices = {item["office"] for item in everything["items"]}
    assert {"GB", "FR", None} <= offices  # an admin's own account belongs to no office
    only_gb = client.get(URL + "?office=GB&per_page=500", headers=staff["admin"]).json
    assert {item["office"] for item in only_gb["items"]} == {"GB"}
    assert only_gb["total"] < everything["total"]
    assert client.get(URL + "?office=ZZ", headers=staff["admin"]).status_code == 404


def test_pages_run_newest_first_and_filter_by_action(client, staff):
    signins("GB", 120, datetime(2026, 11, 1))
    first = client.get(URL + "?office=GB&action=signin", headers=staff["gb"]).json
    assert (first["page"], first["per_page"], first["total"], len(first["items"])) == (1, 50, 120, 50)
    assert first["items"][0]["at"] == "2026-11-01T01:59:00Z"  # the latest first
    assert first["items"][0] == {
        "id": first["items"][0]["id"],
        "at": "2026-11-01T01:59:00Z",
        "actor": "manager@gb.example.org",
        "office": "GB",
        "action": "signin",
        "subject": None,
        "details": {},
        "network": "198.51.100.0/24",
    }
    ids = [item["id"] for item in first["items"]]
    assert ids == sorted(ids, reverse=True)
    last = client.get(URL + "?action=signin&page=3", headers=staff["gb"]).json
    assert len(last["items"]) == 20 and last["items"][-1]["at"] == "2026-11-01T00:00:00Z"
    assert client.get(URL + "?action=signin&page=4", headers=staff["gb"]).json["items"] == []
    assert client.get(URL + "?per_page=501", headers=staff["gb"]).status_code == 422
    assert client.get(URL + "?page=0", headers=staff["gb"]).status_code == 422
    tokens = client.get(URL + "?action=token.created", headers=staff["gb"]).json
    assert {item["action"] for item in tokens["items"]} == {"token.created"} and tokens["total"] == 3  # GB's three


def test_an_act_over_the_web_carries_its_network_and_one_from_the_command_line_none(client, staff):
    client.post("/api/v1/offices/GB/supporters", json={"email": "new@example.net"}, headers=staff["gb"])
    added = client.get(URL + "?action=supporters.added", headers=staff["gb"]).json["items"]
    assert [(item["actor"], item["network"]) for item in added] == [("manager@uk.example.org", LOCAL_NETWORK)]
    made = client.get(URL + "?action=staff.created", headers=staff["gb"]).json["items"]
    assert {(item["actor"], item["network"]) for item in made} == {("command line", None)}
