"""Each role against each console page and form, signed in as a browser would be: a role below what it needs
gets the console's 403 page and changes nothing; a role that holds it gets the page's own answer; ES's manager
still gets a 404 for GB's data. And each page shows only the buttons and links the reader's role may use."""

import io

import pytest

from .roles_world import ACTORS, CSV, EMAILS, build_world, fingerprint
from .test_console import csrf_from, sign_in
from .test_console_translations import form_of

LAUNCH = {"office": "GB", "tags": "", "deadline": "", "languages": "", "confirm": "yes"}
COLLEAGUE = {"email": "new.colleague@uk.example.org", "role": "viewer", "office": "GB"}

# (method, path, form, the lowest role allowed, its answer then, ES's manager's answer when it holds the role).
PAGES = [
    ("GET", "/?office=GB", None, "viewer", 200, 404),
    ("GET", "/console/cases/{case}?office=GB", None, "viewer", 200, 404),
    ("GET", "/console/cases/{case}/stats.csv?office=GB", None, "viewer", 200, 404),
    ("GET", "/console/cases/{case}/preview/launch?office=GB", None, "viewer", 200, 404),
    ("GET", "/console/queues", None, "viewer", 200, 200),
    ("GET", "/console/api", None, "viewer", 200, 200),
    ("GET", "/console/deliverability?office=GB", None, "viewer", 200, 404),
    ("GET", "/console/deliverability/suppressions.csv?office=GB", None, "manager", 200, 404),
    ("GET", "/console/preferences?office=GB", None, "viewer", 200, 404),
    ("GET", "/console/cases/{case}/translations/fr", None, "viewer", 200, 200),
    ("GET", "/console/cases/{fresh}/launch?office=GB", None, "campaigner", 200, 200),
    ("POST", "/console/cases/{fresh}/launch", LAUNCH, "campaigner", 302, 422),  # GB is not among ES's offices
    ("POST", "/console/mailings/{mailing}/resume", {}, "campaigner", 302, 404),
    ("GET", "/console/supporters/?office=GB", None, "campaigner", 200, 200),  # ES's own list
    ("GET", "/console/supporters/{supporter}", None, "campaigner", 200, 404),
    ("POST", "/console/supporters/import?office=GB", "csv", "campaigner", 302, 302),  # into ES's own list
    ("GET", "/console/supporters/imports/{import}", None, "campaigner", 200, 404),
    ("GET", "/console/staff", None, "manager", 200, 200),
    ("POST", "/console/staff", COLLEAGUE, "manager", 201, 201),  # a manager adds to their own office
    ("POST", "/console/staff/{viewer_id}/role", {"account{viewer_id}-role": "campaigner"}, "manager", 302, 404),
    ("POST", "/console/staff/{campaigner_id}/remove", {}, "manager", 302, 404),
    ("GET", "/console/audit?office=GB", None, "manager", 200, 404),
    ("GET", "/console/webhooks?office=GB", None, "manager", 200, 404),
    (
        "POST",
        "/console/webhooks?office=GB",
        {"url": "http://127.0.0.1:9/other", "events": "action.created"},
        "manager",
        201,
        404,
    ),
    ("POST", "/console/webhooks/{webhook}/enable?office=GB", {}, "manager", 302, 404),
    ("POST", "/console/webhooks/{webhook}/delete?office=GB", {}, "manager", 302, 404),
    ("GET", "/console/cases/{case}/update", None, "admin", 200, None),
    ("POST", "/console/cases/{case}/update", {"body": "He was moved."}, "admin", 200, None),
    ("GET", "/console/cases/{case}/translations?language=de", None, "admin", 302, None),
    ("POST", "/console/cases/{case}/translations/fr", form_of(title="Libérez Eduardo Torres"), "admin", 302, None),
    ("POST", "/console/cases/{case}/translations/fr/remove", {}, "admin", 200, None),
    ("POST", "/console/cases/{case}/classification", {"country": "VE", "themes": "defenders"}, "admin", 303, None),
]
RANK = {"viewer": 0, "campaigner": 1, "manager": 2, "admin": 3}


def signed_in_client(app, world, actor):
    client = app.test_client()
    assert sign_in(client, EMAILS[actor]).status_code == 302
    return client, csrf_from(client.get("/"))


def send(client, token, world, method, path, form):
    url = path.format(**world.ids)
    if method == "GET":
        return client.get(url)
    if form == "csv":
        return client.post(
            url, content_type="multipart/form-data", data={"csrf_token": token, "file": (io.BytesIO(CSV), "list.csv")}
        )
    return client.post(
        url, data={"csrf_token": token, **{key.format(**world.ids): value for key, value in form.items()}}
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    ("method", "path", "form", "lowest", "answer", "other"), PAGES, ids=[f"{m} {p}" for m, p, *_ in PAGES]
)
def test_each_role_against_each_console_page(app, actor, method, path, form, lowest, answer, other):
    world = build_world()
    client, token = signed_in_client(app, world, actor)
    before = fingerprint()
    response = send(client, token, world, method, path, form)
    holds = RANK["manager" if actor == "other" else actor] >= RANK[lowest] and not (
        actor == "other" and lowest == "admin"
    )
    if holds:
        expected = other if actor == "other" else answer
        assert response.status_code == expected, (response.status_code, response.get_data(as_text=True)[:300])
    else:
        assert response.status_code == 403
        assert "Not for your role" in response.get_data(as_text=True)  # the console's own page, not Werkzeug's
        assert fingerprint() == before


def test_the_table_covers_every_console_view(app):
    """A console view added without a row here fails this test."""
    listed = {(method, path.split("?")[0]) for method, path, *_ in PAGES}
    placeholders = {
        "{case}": "<int:case_id>",
        "{fresh}": "<int:case_id>",
        "{mailing}": "<int:mailing_id>",
        "{import}": "<int:import_id>",
        "{supporter}": "<int:supporter_id>",
        "{viewer_id}": "<int:staff_id>",
        "{campaigner_id}": "<int:staff_id>",
        "{webhook}": "<int:webhook_id>",
        "/fr": "/<language>",
        "/update": "/<any(update, extend, close):change>",
        "/launch": "/<stage>",
    }
    rules = set()
    for method, path in listed:
        for short, rule in placeholders.items():
            if short == "/launch" and "/preview/" not in path:
                continue
            path = path.replace(short, rule)
        rules.add((method, path))
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if (rule.rule == "/" or rule.rule.startswith("/console"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == routes


def pages_of(app, world, actor):
    """A reader of pages signed in as `actor`. One account per test: the test's app context (and with it
    Flask-Login's remembered user) lasts across its requests."""
    client, _ = signed_in_client(app, world, actor)

    def page(path):
        response = client.get(path.format(**world.ids))
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return page


def test_a_viewer_sees_the_counts_without_a_button_they_cannot_use(app):
    page = pages_of(app, build_world(), "viewer")
    case = page("/console/cases/{case}")
    assert "Resume sending" not in case and "Export counts (CSV)" in case
    fresh = page("/console/cases/{fresh}")
    assert "Launch for GB" not in fresh
    assert ">Supporters</a>" not in fresh and ">Staff</a>" not in fresh and ">Deliverability</a>" in fresh
    assert "Download the suppression list" not in page("/console/deliverability")


def test_a_campaigner_launches_and_resumes_but_is_shown_no_export_or_staff(app):
    page = pages_of(app, build_world(), "campaigner")
    assert "Launch for GB" in page("/console/cases/{fresh}")
    case = page("/console/cases/{case}")
    assert "Resume sending" in case and ">Supporters</a>" in case and ">Staff</a>" not in case
    assert "Post an update" not in case
    assert "Download the suppression list" not in page("/console/deliverability")


def test_a_manager_is_shown_the_staff_page_and_the_download_but_not_the_cases_changes(app):
    page = pages_of(app, build_world(), "manager")
    deliverability = page("/console/deliverability")
    assert "Download the suppression list" in deliverability and ">Staff</a>" in deliverability
    case = page("/console/cases/{case}")
    assert "Post an update" not in case and "Read the French translation" in case


def test_an_admin_is_shown_the_cases_changes(app):
    page = pages_of(app, build_world(), "admin")
    case = page("/console/cases/{case}?office=GB")
    assert "Post an update" in case and "Edit the French translation" in case and ">Staff</a>" in case
