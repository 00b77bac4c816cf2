"""The audit trail's console page, for managers and admins, and its retention kept by the tick."""

from datetime import datetime, timedelta

import pytest

from mobilise.clock import utcnow
from mobilise.extensions import db
from mobilise.models import AuditEntry, Office
from mobilise.sending.tick import tick

from .builders import make_office, token_for
from .test_audit import FRANCE
from .test_console import csrf_from, sign_in

PAGE = "/console/audit"


@pytest.fixture
def staff(app):
    make_office(), make_office(**FRANCE)
    for email, office, role in (
        ("manager@uk.example.org", "GB", None),
        ("manager@fr.example.org", "FR", None),
        ("campaigner@uk.example.org", "GB", "campaigner"),
        ("viewer@uk.example.org", "GB", "viewer"),
    ):
        token_for(email, office=office, role=role)
    token_for("admin@example.org", admin=True)


def add_entry(office_code: str | None, at: datetime, action: str = "supporter.erased", subject: str = "supporter 7"):
    office_id = db.session.scalar(db.select(Office.id).where(Office.code == office_code)) if office_code else None
    db.session.add(
        AuditEntry(
            at=at,
            actor="someone@example.org",
            office_id=office_id,
            action=action,
            subject=subject,
            details={},
            network=None,
        )
    )
    db.session.commit()


def test_a_manager_reads_their_office_trail_at_its_own_time(client, staff):
    add_entry("GB", datetime(2026, 7, 1, 12, 0), subject="supporter 11")
    add_entry("FR", datetime(2026, 7, 1, 12, 0), subject="supporter 22")
    sign_in(client, "manager@uk.example.org")
    page = client.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "supporter 11" in html and "Wed 1 Jul 2026, 13:00 BST" in html  # London's summer time
    assert "supporter 22" not in html and "manager@fr.example.org" not in html
    assert "manager@uk.example.org" in html  # their own sign-in, just recorded
    assert client.get(PAGE + "?office=FR").status_code == 404


def test_a_french_manager_reads_paris_time(client, staff):
    add_entry("FR", datetime(2026, 7, 1, 12, 0))
    sign_in(client, "manager@fr.example.org")
    assert "Wed 1 Jul 2026, 14:00 CEST" in client.get(PAGE).get_data(as_text=True)


def _csrf(client) -> str:
    return csrf_from(client.get("/logout"))


def test_the_menu_links_to_the_trail_for_managers_and_admins_only(client, staff):
    sign_in(client, "manager@uk.example.org")
    assert f'href="{PAGE}"' in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _csrf(client)})
    for email in ("campaigner@uk.example.org", "viewer@uk.example.org"):
        sign_in(client, email)
        assert f'href="{PAGE}"' not in client.get("/").get_data(as_text=True)
        assert client.get(PAGE).status_code == 403
        client.post("/logout", data={"csrf_token": _csrf(client)})
    assert client.get(PAGE).status_code == 302  # signed out: to the sign-in page


def test_an_admin_filters_by_office_and_action_and_pages_through(client, staff):
    start = datetime(2026, 11, 1)
    for n in range(55):
        add_entry("GB", start + timedelta(minutes=n), action="supporter.exported", subject=f"supporter {n}")
    add_entry("FR", start, action="supporter.exported", subject="supporter 999")
    sign_in(client, "admin@example.org")
    everything = client.get(PAGE).get_data(as_text=True)
    assert "every office" in everything and "signin" in everything
    gb = client.get(PAGE + "?office=GB&action=supporter.exported").get_data(as_text=True)
    assert "55 entries" in gb and "supporter 54<" in gb and "supporter 999" not in gb
    assert "supporter 4<" not in gb  # the oldest five are on the next page
    assert "page=2" in gb
    older = client.get(PAGE + "?office=GB&action=supporter.exported&page=2").get_data(as_text=True)
    assert "supporter 4<" in older and "supporter 0<" in older and "supporter 5<" not in older


def test_the_tick_deletes_entries_past_the_retention_and_keeps_the_others(app, staff, monkeypatch):
    monkeypatch.setattr("mobilise.audit.service.PRUNE_BATCH", 2)  # one batch a tick: a backlog takes several ticks
    now = utcnow()
    for days in (800, 500, 401, 401, 401):
        add_entry("GB", now - timedelta(days=days), subject=f"old {days}")
    add_entry("GB", now - timedelta(days=399), subject="kept")
    before = db.session.scalar(db.select(db.func.count(AuditEntry.id)))
    tick(now)
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id))) == before - 2  # the oldest two first
    tick(now)
    tick(now)
    subjects = set(db.session.scalars(db.select(AuditEntry.subject)))
    assert not any(s and s.startswith("old") for s in subjects) and "kept" in subjects
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id))) == before - 5  # the builders' recent ones kept
    app.config["AUDIT_RETENTION_DAYS"] = 300
    tick(now)
    assert "kept" not in set(db.session.scalars(db.select(AuditEntry.subject)))
