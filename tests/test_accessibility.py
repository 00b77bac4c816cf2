"""axe-core (npm, node_modules/axe-core) over every public and console page, on a desktop and a phone.

No page may have a violation of impact "serious" or "critical". The pages are the two tables below: a row is
a name and the steps that open the page in the browser from the one set of data `world` makes. Add a page by
adding a row; rows run in order, and a row may rely on what the rows above it did (the thanks page follows
the action page's confirmation).
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from mobilise.extensions import db
from mobilise.models import ConsentChange, Supporter
from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters, token_for, translated
from .conftest import ROOT, SCREENSHOTS

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@dataclass
class World:
    """What the pages need: the links of one supporter's email, a sign-up's confirmation links, the case."""

    base: str
    case_id: int = 0
    slug: str = ""
    act: str = ""
    unsubscribe: str = ""
    preferences: str = ""
    confirm: str = ""
    expired_confirm: str = ""
    supporter_id: int = 0
    visitor: str = ""  # a visitor's confirmation link, from the email the public case page's form sent
    extra: dict = field(default_factory=dict)


def go(path: str):
    return lambda page, w: page.goto(w.base + path.format(w=w))


def click(path: str, button: str, then: str):
    """Open `path`, press `button`, wait for the text `then` of the page it leads to."""

    def steps(page, w):
        page.goto(w.base + path.format(w=w))
        page.get_by_role("button", name=button).click()
        page.get_by_text(then).first.wait_for()

    return steps


def sign_up(page, w):
    page.goto(w.base + "/subscribe/GB")
    page.get_by_label("Email address").fill("new.person@example.org")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_text("Check your inbox").wait_for()


def open_the_letter(page, w):
    page.goto(w.base + w.act)
    page.get_by_text("Read the whole letter").click()
    page.locator("#letter").wait_for()


def visitor_asks(page, w):
    page.goto(w.base + f"/cases/{w.slug}?office=GB")
    page.get_by_label("Email address").first.fill("visitor.page@example.org")
    page.get_by_role("button", name="I sent my appeal: email me the link to confirm").click()
    page.get_by_text("Check your inbox").first.wait_for()


def import_csv(page, w):
    page.goto(w.base + "/console/supporters/")
    page.locator("summary").first.click()
    page.set_input_files(
        "#file",
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": b"email,first_name\nmore@example.org,More\n"}],
    )
    page.get_by_role("button", name=re.compile("^Import into")).click()
    page.wait_for_url(re.compile(r"/console/supporters/imports/\d+"))


def refused_pause(page, w):
    """The preference page answering 422: a pause longer than a year, with its message."""
    page.goto(w.base + w.preferences)
    page.get_by_label("Pause until a date").check()
    page.get_by_label("Pause until", exact=True).fill("2099-01-01")
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_role("alert").wait_for()


def sign_in(page, w):
    page.goto(w.base + "/login")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(w.base + "/")


PUBLIC_PAGES = [
    ("action page", go("{w.act}")),
    ("action page, the whole letter open", open_the_letter),
    ("printable letter", go("/cases/{w.slug}/letter?office=GB&lang=en")),
    ("thanks page", click("{w.act}", "I sent my appeal", "Your appeal is counted")),
    ("preference page", go("{w.preferences}")),
    ("preferences saved", click("{w.preferences}", "Save my choices", "Saved.")),
    ("preferences refused", refused_pause),
    ("unsubscribe page", go("{w.unsubscribe}")),
    ("unsubscribe done", click("{w.unsubscribe}", "Unsubscribe", "You are unsubscribed")),
    ("public case page with office", go("/cases/{w.slug}?office=GB")),
    ("public case page without office", go("/cases/{w.slug}")),
    ("visitor's request answered", visitor_asks),
    ("visitor's confirmation page", go("{w.visitor}")),
    ("visitor's action confirmed", click("{w.visitor}", "Confirm my action", "Thank you: your action counts")),
    ("sign-up page", go("/subscribe/GB")),
    ("sign-up answer", sign_up),
    ("sign-up confirmation page", go("{w.confirm}")),
    ("sign-up confirmed", click("{w.confirm}", "Yes, subscribe me", "You are subscribed")),
    ("404 page", go("/cases/no-such-case?office=GB")),
    ("404 page of a tampered link", go("/act/not-a-real-token")),
    ("410 page", go("{w.expired_confirm}")),
    ("422 refused page", go("/cases/{w.slug}?office=%00")),
]

CONSOLE_PAGES = [
    ("sign-in", go("/login")),
    ("home", sign_in),
    ("case page", go("/console/cases/{w.case_id}")),
    ("launch", go("/console/cases/{w.case_id}/launch?office=GB")),
    (
        "launch confirmation",
        click("/console/cases/{w.case_id}/launch?office=GB", "See the email and who gets it", "Yes, send it"),
    ),
    ("update form", go("/console/cases/{w.case_id}/update")),
    ("extend form", go("/console/cases/{w.case_id}/extend")),
    ("close form", go("/console/cases/{w.case_id}/close")),
    ("translations", go("/console/cases/{w.case_id}/translations")),
    ("a translation", go("/console/cases/{w.case_id}/translations/fr")),
    ("supporters list", go("/console/supporters/")),
    ("supporter", go("/console/supporters/{w.supporter_id}")),
    ("import", import_csv),
    ("supporters' choices, choosing an office", go("/console/preferences")),
    ("supporters' choices of an office", go("/console/preferences?office=GB")),
    ("deliverability, choosing an office", go("/console/deliverability")),
    ("deliverability of an office", go("/console/deliverability?office=GB")),
    ("queues", go("/console/queues")),
    ("webhooks, choosing an office", go("/console/webhooks")),
    ("webhooks of an office", go("/console/webhooks?office=GB")),
    ("API docs", go("/console/api")),
    ("staff", go("/console/staff")),
    ("console 404", go("/console/cases/999999")),
    ("logout", go("/logout")),
]


def world(live_server, relay, run_jobs, client) -> World:
    office = make_office()
    make_supporters(office, 2)
    token_for("admin@example.org", admin=True)
    token_for("viewer@uk.example.org", office="GB", role="viewer")  # a row of the staff page with its forms
    case = make_case(translations=translated("es"))
    start_drive(case, office, {"office": "GB"})
    make_case(title="Release the journalists", reference="UA 7/26")  # a second case, not yet launched
    run_jobs()
    html = next(m for m in relay.messages() if m["To"] == "person0@gb.example.net").get_body(("html",)).get_content()
    links = {
        kind: re.search(rf'href="http://mobilise\.test(/{kind}/[^"]+)"', html).group(1)
        for kind in ("act", "unsubscribe", "preferences")
    }

    def confirmation(address: str) -> str:
        relay.received.clear()
        assert client.post("/subscribe/GB", data={"email": address}).status_code == 202
        run_jobs()
        text = relay.messages()[0].get_body(("plain",)).get_content()
        return re.search(r"http://mobilise\.test(/confirm/[A-Za-z0-9._-]+)", text).group(1)

    relay.received.clear()
    asked = client.post(f"/cases/{case.slug}/actions?office=GB", data={"email": "visitor@example.org"})
    assert asked.status_code == 202
    run_jobs()
    text = relay.messages()[0].get_body(("plain",)).get_content()
    visitor = re.search(r"http://mobilise\.test(/cases/[^/\s]+/actions/[A-Za-z0-9._-]+)", text).group(1)

    expired = confirmation("late@example.org")
    for change in db.session.scalars(db.select(ConsentChange).where(ConsentChange.change == "requested")):
        change.at -= timedelta(days=15)
    db.session.commit()
    person0 = db.session.scalar(db.select(Supporter.id).where(Supporter.email == "person0@gb.example.net"))
    return World(
        base=live_server,
        case_id=case.id,
        slug=case.slug,
        act=links["act"],
        unsubscribe=links["unsubscribe"],
        preferences=links["preferences"],
        confirm=confirmation("ana@example.org"),
        expired_confirm=expired,
        supporter_id=person0,
        visitor=visitor,
    )


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is, all rules on. Evaluated through the DevTools protocol, which
    the pages' Content-Security-Policy (script-src 'self') does not govern, so the page is tested as served."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


def described(name: str, violation: dict) -> str:
    targets = "; ".join(
        " ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
        for node in violation["nodes"][:5]
    )
    return f"{name}: {violation['id']} ({violation['impact']}) at {targets}: {violation['help']}"


def check_pages(page, w: World, pages) -> tuple[list[str], dict]:
    """Each page opened by its row's steps and checked; the serious and critical violations, and every count by impact."""
    failures, counts = [], {}
    for name, steps in pages:
        steps(page, w)
        assert page.locator("h1").count() >= 1, f"{name}: the steps did not open a page ({page.url})"
        for violation in axe_violations(page):
            counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
            if violation["impact"] in BLOCKING:
                failures.append(described(name, violation))
                page.screenshot(path=SCREENSHOTS / f"axe-{name.replace(' ', '-')}-{page.device}.png", full_page=True)
    return failures, counts


@pytest.fixture
def pages_world(app, relay, run_jobs, live_server, client):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: scripts/test installs it with npm ci (package.json)")
    SCREENSHOTS.mkdir(exist_ok=True)
    return world(live_server, relay, run_jobs, client)


def test_no_public_page_has_a_serious_accessibility_violation(pages_world, page):
    failures, counts = check_pages(page, pages_world, PUBLIC_PAGES)
    print(f"axe over {len(PUBLIC_PAGES)} public pages on the {page.device}: {counts or 'no violation'}")
    assert not failures, "\n".join(failures)


def test_no_console_page_has_a_serious_accessibility_violation(pages_world, page):
    failures, counts = check_pages(page, pages_world, CONSOLE_PAGES)
    print(f"axe over {len(CONSOLE_PAGES)} console pages on the {page.device}: {counts or 'no violation'}")
    assert not failures, "\n".join(failures)


def test_the_check_finds_a_serious_violation_where_there_is_one(pages_world, page):
    """The check itself: an image without a text alternative is a critical violation axe reports."""
    page.goto(pages_world.base + "/cases/" + pages_world.slug)
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/favicon.ico\">')")
    assert "image-alt" in [v["id"] for v in axe_violations(page) if v["impact"] in BLOCKING]


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_import_page_shows_its_progress_in_place_without_reloading(pages_world, page, run_jobs):
    """No <meta refresh> (axe's meta-refresh, WCAG 2.2.1): the page fetches its progress and puts it in place."""
    sign_in(page, pages_world)
    import_csv(page, pages_world)
    assert page.locator("#import-progress .status").text_content() == "queued"
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    run_jobs()
    page.locator("#import-progress .status", has_text="done").wait_for(timeout=10_000)
    assert page.evaluate("window.sameDocument") is True
    assert page.locator("#import-progress[data-refresh]").count() == 0
