"""/console/staff: a manager adds colleagues, changes their roles and removes them, within their own office and
never over an admin; the office keeps its last manager; a change reaches the account's sessions and tokens at once."""

import re

from werkzeug.security import check_password_hash

from mobilise.extensions import db
from mobilise.models import AuditEntry, Staff

from .builders import bearer
from .roles_world import EMAILS, build_world
from .test_console import csrf_from, sign_in


def fresh(app, client, method, url, **kwargs):
    """One request in an app context of its own, as each real request has: Flask-Login then reads the account
    again (the test's own context would keep the first one it loaded, whoever signs in after)."""
    with app.app_context():
        return client.open(url, method=method, **kwargs)


def signed_in(app, actor):
    client = app.test_client()
    with app.app_context():
        assert sign_in(client, EMAILS[actor]).status_code == 302
    return client, csrf_from(fresh(app, client, "GET", "/console/staff"))


def account(email):
    db.session.expire_all()
    return db.session.scalar(db.select(Staff).where(Staff.email == email))


def test_a_manager_adds_a_colleague_whose_password_is_shown_once(app):
    build_world()
    client, token = signed_in(app, "manager")
    page = fresh(app, client, "GET", "/console/staff").get_data(as_text=True)
    assert EMAILS["viewer"] in page and EMAILS["campaigner"] in page
    assert EMAILS["other"] not in page and EMAILS["admin"] not in page  # GB's own staff only
    added = fresh(
        app,
        client,
        "POST",
        "/console/staff",
        data={"csrf_token": token, "email": "New.Colleague@uk.example.org", "role": "campaigner", "office": "ES"},
    )
    assert added.status_code == 201 and added.headers["Cache-Control"] == "no-store, private"
    password = re.search(r'<code class="secret">([^<]+)</code>', added.get_data(as_text=True)).group(1)
    made = account("new.colleague@uk.example.org")
    assert (made.role, made.office.code) == ("campaigner", "GB")  # a manager's colleague is of their office
    assert check_password_hash(made.password_hash, password)
    listed = fresh(app, client, "GET", "/console/staff").get_data(as_text=True)
    assert "new.colleague@uk.example.org" in listed and password not in listed
    again = fresh(
        app,
        client,
        "POST",
        "/console/staff",
        data={"csrf_token": token, "email": "new.colleague@uk.example.org", "role": "viewer"},
    )
    assert again.status_code == 409 and "already exists" in again.get_data(as_text=True)


def test_a_role_changed_on_the_page_changes_what_the_existing_token_may_do_at_once(app, client):
    world = build_world()
    viewer = world.tokens["viewer"]
    adding = {"email": "added.by.token@gb.example.net"}
    assert client.post("/api/v1/offices/GB/supporters", json=adding, headers=bearer(viewer)).status_code == 403
    manager, token = signed_in(app, "manager")
    changed = fresh(
        app,
        manager,
        "POST",
        f"/console/staff/{world.ids['viewer_id']}/role",
        data={"csrf_token": token, f"account{world.ids['viewer_id']}-role": "campaigner"},
    )
    assert changed.status_code == 302
    assert client.post("/api/v1/offices/GB/supporters", json=adding, headers=bearer(viewer)).status_code == 200
    assert "is now campaigner" in fresh(app, manager, "GET", "/console/staff").get_data(as_text=True)
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "staff.role_changed")).all()
    assert (entry.actor, entry.subject, entry.details) == (
        EMAILS["manager"],
        EMAILS["viewer"],
        {"from": "viewer", "to": "campaigner"},
    )


def test_a_removed_account_loses_its_session_and_its_token_at_once(app, client):
    world = build_world()
    campaigner, _ = signed_in(app, "campaigner")
    assert fresh(app, campaigner, "GET", "/console/supporters/").status_code == 200
    manager, token = signed_in(app, "manager")
    removed = fresh(
        app, manager, "POST", f"/console/staff/{world.ids['campaigner_id']}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 302 and account(EMAILS["campaigner"]) is None
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "staff.removed")).all()
    assert (entry.actor, entry.subject, entry.office.code) == (EMAILS["manager"], EMAILS["campaigner"], "GB")
    assert client.get("/api/v1/cases", headers=bearer(world.tokens["campaigner"])).status_code == 401
    gone = fresh(app, campaigner, "GET", "/console/supporters/")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")


def test_a_manager_never_touches_an_admin_or_another_offices_staff(app):
    build_world()
    admin_id, spanish_id = account(EMAILS["admin"]).id, account(EMAILS["other"]).id
    client, token = signed_in(app, "manager")
    assert (
        fresh(app, client, "POST", f"/console/staff/{admin_id}/remove", data={"csrf_token": token}).status_code == 404
    )  # as another office's: a manager cannot tell which accounts are admins
    assert (
        fresh(
            app,
            client,
            "POST",
            f"/console/staff/{admin_id}/role",
            data={"csrf_token": token, f"account{admin_id}-role": "viewer"},
        ).status_code
        == 404
    )
    assert (
        fresh(app, client, "POST", f"/console/staff/{spanish_id}/remove", data={"csrf_token": token}).status_code == 404
    )
    assert (
        fresh(
            app,
            client,
            "POST",
            f"/console/staff/{spanish_id}/role",
            data={"csrf_token": token, f"account{spanish_id}-role": "viewer"},
        ).status_code
        == 404
    )
    assert account(EMAILS["admin"]).role == "admin" and account(EMAILS["other"]).role == "manager"
    assert fresh(app, client, "GET", "/console/staff?office=ES").status_code == 404


def test_the_last_manager_cannot_demote_or_remove_themselves(app):
    build_world()
    me = account(EMAILS["manager"]).id
    client, token = signed_in(app, "manager")
    demoted = fresh(
        app, client, "POST", f"/console/staff/{me}/role", data={"csrf_token": token, f"account{me}-role": "viewer"}
    )
    assert demoted.status_code == 409 and "keeps at least one manager" in demoted.get_data(as_text=True)
    removed = fresh(app, client, "POST", f"/console/staff/{me}/remove", data={"csrf_token": token})
    assert removed.status_code == 409 and account(EMAILS["manager"]).role == "manager"
    # With a second manager, the first may step down.
    second = account(EMAILS["campaigner"]).id
    fresh(
        app,
        client,
        "POST",
        f"/console/staff/{second}/role",
        data={"csrf_token": token, f"account{second}-role": "manager"},
    )
    assert (
        fresh(
            app, client, "POST", f"/console/staff/{me}/role", data={"csrf_token": token, f"account{me}-role": "viewer"}
        ).status_code
        == 302
    )
    assert account(EMAILS["manager"]).role == "viewer"
    assert fresh(app, client, "GET", "/console/staff").status_code == 403  # a viewer now, at their next request


def test_an_admin_sees_every_account_picks_an_office_and_adds_to_it(app):
    build_world()
    client, token = signed_in(app, "admin")
    every = fresh(app, client, "GET", "/console/staff").get_data(as_text=True)
    assert all(email in every for email in EMAILS.values())
    spain = fresh(app, client, "GET", "/console/staff?office=ES").get_data(as_text=True)
    assert EMAILS["other"] in spain and EMAILS["viewer"] not in spain
    added = fresh(
        app,
        client,
        "POST",
        "/console/staff",
        data={"csrf_token": token, "email": "viewer@es.example.org", "role": "viewer", "office": "ES"},
    )
    assert added.status_code == 201 and account("viewer@es.example.org").office.code == "ES"
