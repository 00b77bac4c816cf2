"""Translating a case in a real browser at phone width: the warning at the launch, the form, the status changing."""

import re

from mobilise.extensions import db
from mobilise.models import Case

from .builders import TRANSLATED, make_case, make_office, make_supporters, token_for
from .conftest import PHONE, SCREENSHOTS
from .test_console_translations import FRANCE


def test_an_admin_on_a_phone_translates_from_the_launchs_warning_and_sees_the_status_change(app, browser, live_server):
    office = make_office(**FRANCE)
    make_supporters(office, 3)
    case = make_case()
    token_for("admin@example.org", admin=True)
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(live_server + "/login")
        page.get_by_label("Email").fill("admin@example.org")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name=re.compile("Cases")).wait_for()

        page.goto(f"{live_server}/console/cases/{case.id}/launch?office=FR")
        warning = page.get_by_role("alert")
        assert (
            "This case has no French translation: 3 supporters who read French will get it in English."
            in warning.inner_text()
        )
        page.screenshot(path=SCREENSHOTS / "console-launch-warning-phone.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
        page.get_by_role("link", name="Add the French translation first").click()

        page.get_by_role("heading", name=re.compile("Status: Incomplete: 6 fields missing")).wait_for()
        fr = TRANSLATED["fr"]
        page.get_by_label("Title in French", exact=True).fill(fr["title"])
        page.get_by_label("Summary in French", exact=True).fill(fr["summary"])
        page.get_by_role("button", name="Save the French translation").click()
        # Saving from the launch's warning goes back to the launch, which still warns: four texts are missing.
        page.get_by_text("The French translation is saved. Incomplete: 4 fields missing").wait_for()
        assert (
            "incomplete (missing: Pronoun of the person at risk, The target's title, Salutation to the target, Model letter)"
            in page.get_by_role("alert").inner_text()
        )
        page.get_by_role("link", name="Complete the French translation first").click()
        page.get_by_role("heading", name=re.compile("Status: Incomplete: 4 fields missing")).wait_for()
        assert page.get_by_text("Missing — this translation is not used until it is filled.").count() == 4
        page.screenshot(path=SCREENSHOTS / "console-translation-incomplete-phone.png", full_page=True)

        page.get_by_label("Pronoun of the person at risk in French", exact=True).fill(fr["pronoun"])
        page.get_by_label("The target's title in French", exact=True).fill(fr["target"]["title"])
        page.get_by_label("Salutation to the target in French", exact=True).fill(fr["target"]["salutation"])
        page.get_by_label("Model letter in French", exact=True).fill(fr["model_letter"])
        page.get_by_role("button", name="Save the French translation").click()
        page.get_by_text("The French translation is saved. Complete: used in emails and pages.").wait_for()
        assert page.get_by_role("alert").count() == 0  # the launch no longer warns
        page.get_by_role("link", name="The email in French").wait_for()

        page.goto(f"{live_server}/console/cases/{case.id}/translations/fr")
        page.get_by_role("heading", name="Status: Complete: used in emails and pages.").wait_for()
        page.screenshot(path=SCREENSHOTS / "console-translation-complete-phone.png", full_page=True)
        # Nothing scrolls sideways on a phone: the original and the field are stacked.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
        page.goto(f"{live_server}/console/cases/{case.id}")
        page.get_by_role("row", name=re.compile("French complete Complete: used in emails and pages")).wait_for()
        page.screenshot(path=SCREENSHOTS / "console-case-languages-phone.png", full_page=True)
        page.goto(f"{live_server}/console/cases/{case.id}/translations/fr")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=SCREENSHOTS / "console-translation-complete-desktop.png", full_page=True)
    finally:
        context.close()
    db.session.expire_all()
    assert db.session.get(Case, case.id).languages() == {"en", "fr"}
