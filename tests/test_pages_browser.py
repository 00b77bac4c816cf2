"""The supporter's pages in a real browser (Debian's chromium via Playwright), on a phone and a desktop."""

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from mobilise.clock import days_left
from mobilise.extensions import db
from mobilise.models import Action
from mobilise.sequences.dispatch import start_drive

from .builders import TRANSLATED, case_data, make_case, make_office, make_supporters, translated
from .conftest import SCREENSHOTS


def action_path(relay):
    html = relay.messages()[0].get_body(("html",)).get_content()
    return re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1)


def test_read_copy_the_letter_confirm_and_see_the_thanks(app, relay, run_jobs, live_server, page):
    office = make_office()
    make_supporters(office, 1)
    case = make_case(summary="Eduardo Torres is held at El Helicoide.\n\nRocío San Miguel needs surgery.")
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    page.goto(live_server + action_path(relay))

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Cease detentions and attacks on defenders"
    assert f"{days_left(case.deadline, 'Europe/London')} days left" in page.locator(".deadline").inner_text()
    assert "Palacio de Miraflores" in page.locator("address.target").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"act-{page.device}.png", full_page=True)

    page.get_by_text("Read the whole letter").click()
    page.get_by_role("button", name="Copy the letter").click()
    page.get_by_text("Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Mr Nicolás Maduro,") and "We call for the immediate release of Eduardo Torres." in copied

    assert db.session.scalar(db.select(db.func.count(Action.id))) == 0  # reading is not acting
    page.get_by_role("button", name="I sent my appeal").click()
    thanks = page.get_by_role("status").filter(has_text="Thank you, Person0.")
    thanks.wait_for()
    assert "Your appeal is counted" in thanks.inner_text()
    assert "You are the first person from Amnesty UK to act on this case." in thanks.inner_text()
    assert page.get_by_role("button", name="I sent my appeal").count() == 0
    page.screenshot(path=SCREENSHOTS / f"act-thanks-{page.device}.png", full_page=True)
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Action.id))) == 1


# A phone has no keyboard focus to test: the desktop covers it.
@pytest.mark.parametrize("page", ["desktop"], indirect=True)
def test_the_confirm_button_works_from_the_keyboard(app, relay, run_jobs, live_server, page):
    office = make_office()
    make_supporters(office, 1)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    page.goto(live_server + action_path(relay))
    page.get_by_role("button", name="I sent my appeal").focus()
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Your appeal is counted").wait_for()


def test_the_public_case_page_in_the_offices_language(app, live_server, page):
    spain = make_office(
        code="ES",
        name="Amnistía Internacional España",
        language="es",
        timezone="Europe/Madrid",
        sender="a@es.example.org",
    )
    case = make_case(translations=translated("es", title="Cesen las detenciones"))
    start_drive(case, spain, {"office": "ES"})
    page.goto(f"{live_server}/cases/{case.slug}?office=ES")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Cesen las detenciones"
    left = days_left(case.deadline, "Europe/Madrid")  # Madrid's own date, which may already be tomorrow's
    assert page.locator(".countdown").inner_text() == f"{left} días para actuar"
    pdf = page.get_by_role("link", name="Descargar la AU completa en PDF")
    assert pdf.get_attribute("href").endswith("ua.pdf?lang=es&office=ES")  # the office: its dates and deadline
    with page.expect_download() as download:
        pdf.click()
    assert download.value.suggested_filename == f"{case.slug}.pdf"
    page.screenshot(path=SCREENSHOTS / f"case-{page.device}.png", full_page=True)


# On the phone: where people copy and mail the letter.
@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_the_letter_to_send_is_in_the_targets_language_copied_and_mailed_whole(app, relay, run_jobs, live_server, page):
    office = make_office()
    make_supporters(office, 1)  # an English reader
    case = make_case(
        target={**case_data()["target"], "email": "presidencia@gob.example.org"}, translations=translated("es")
    )
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    page.goto(live_server + action_path(relay))
    page.get_by_text("Read the whole letter").click()

    spanish = "Señor Presidente:\n\nPedimos la liberación inmediata de Eduardo Torres.\n\nAtentamente,"
    letter = page.locator("#letter")
    assert letter.get_attribute("lang") == "es"
    assert letter.text_content() == spanish
    assert page.locator("main").inner_text().count("Señor Presidente:") == 1
    assert "Mr Nicolás Maduro" not in page.locator("main").inner_text().split("The same letter in English")[0]
    assert "This letter is in Spanish, the language Nicolás Maduro reads." in page.locator("main").inner_text()

    page.get_by_role("button", name="Copy the letter").click()
    page.get_by_text("Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == spanish

    href = page.get_by_role("link", name="Send by email").get_attribute("href")
    parts = urlsplit(href)
    assert (parts.scheme, unquote(parts.path)) == ("mailto", "presidencia@gob.example.org")
    query = parse_qs(parts.query)
    assert query["subject"] == ["Cesen las detenciones y los ataques contra defensores"]
    assert query["body"] == [spanish.replace("\n", "\r\n")]

    own = page.locator("details.own-letter")
    own.locator("summary").click()
    english = own.locator(".letter")
    assert english.get_attribute("lang") == "en"
    assert english.inner_text().startswith("Mr Nicolás Maduro,") and english.is_visible()
    assert english.text_content().endswith("Yours sincerely,")
    page.screenshot(path=SCREENSHOTS / f"act-letter-in-spanish-{page.device}.png", full_page=True)


THANKS = {
    "es": "Gracias, Person0.",
    "fr": "Merci, Person0.",
    "de": "Danke, Person0!",
    "pt": "Obrigado, Person0.",
    "it": "Grazie, Person0.",
}
COUNTRIES = {
    "es": ("ES", "Europe/Madrid"),
    "fr": ("FR", "Europe/Paris"),
    "de": ("DE", "Europe/Berlin"),
    "pt": ("BR", "America/Sao_Paulo"),
    "it": ("IT", "Europe/Rome"),
}


@pytest.mark.parametrize("page", ["phone"], indirect=True)
@pytest.mark.parametrize("language", list(THANKS))
def test_a_reader_of_each_language_acts_on_a_page_wholly_in_it(app, relay, run_jobs, live_server, page, language):
    from .test_languages import OUR_WORDING, normalised

    code, timezone = COUNTRIES[language]
    office = make_office(
        code=code, name=f"Amnesty {code}", language=language, timezone=timezone, sender=f"ua@{code.lower()}.example.org"
    )
    make_supporters(office, 1, language=language)
    case = make_case(translations=translated(language))
    start_drive(case, office, {"office": code})
    run_jobs()
    page.goto(live_server + action_path(relay))
    assert page.locator("html").get_attribute("lang") == language
    assert page.get_by_role("heading", level=1).inner_text() == TRANSLATED[language]["title"]

    def english_shown() -> list[str]:
        shown = normalised(page.locator("body").inner_text())
        return sorted(sentence for sentence in OUR_WORDING if sentence in shown)

    assert english_shown() == []
    page.locator("form.confirm button[type=submit]").click()
    page.get_by_role("status").filter(has_text=THANKS[language]).wait_for()
    assert english_shown() == []
    page.screenshot(path=SCREENSHOTS / f"act-thanks-{language}-{page.device}.png", full_page=True)
