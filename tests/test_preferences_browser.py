"""The preference page in a real browser (Debian's chromium via Playwright) on a phone, in each language."""

import re
from datetime import date, timedelta

import pytest

from mobilise.extensions import db
from mobilise.models import PreferenceChoice, Preferences, Supporter
from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters, translated
from .conftest import PHONE, SCREENSHOTS
from .test_pages_browser import COUNTRIES

HEADINGS = {
    "en": "Your email preferences",
    "es": "Tus preferencias de correo",
    "fr": "Vos préférences d'e-mails",
    "de": "Deine E-Mail-Einstellungen",
    "pt": "As tuas preferências de e-mail",
    "it": "Le tue preferenze email",
}
SAVED = {
    "en": "Saved.",
    "es": "Guardado.",
    "fr": "Enregistré.",
    "de": "Gespeichert.",
    "pt": "Guardado.",
    "it": "Salvato.",
}
AMERICAS = {
    "en": "The Americas",
    "es": "América",
    "fr": "Amériques",
    "de": "Amerika",
    "pt": "Américas",
    "it": "Americhe",
}
A_MONTH = {
    "en": "Pause for a month",
    "es": "Pausa de un mes",
    "fr": "Pause d'un mois",
    "de": "Einen Monat Pause",
    "pt": "Pausa de um mês",
    "it": "Pausa di un mese",
}
LAUNCH_AND_LAST = {
    "en": "Only the launch and the last reminder",
    "es": "Solo el lanzamiento y el último recordatorio",
    "fr": "Seulement le lancement et le dernier rappel",
    "de": "Nur den Start und die letzte Erinnerung",
    "pt": "Só o lançamento e o último lembrete",
    "it": "Solo il lancio e l'ultimo promemoria",
}


def preferences_path(relay) -> str:
    html = relay.messages()[0].get_body(("html",)).get_content()
    return re.search(r'href="http://mobilise\.test(/preferences/[^"]+)"', html).group(1)


def office_reading(language: str):
    if language == "en":
        return make_office()
    code, timezone = COUNTRIES[language]
    return make_office(
        code=code, name=f"Amnesty {code}", language=language, timezone=timezone, sender=f"ua@{code.lower()}.example.org"
    )


@pytest.mark.parametrize("page", ["phone"], indirect=True)
@pytest.mark.parametrize("language", list(HEADINGS))
def test_a_supporter_chooses_fewer_emails_on_a_phone_in_their_language(
    app, relay, run_jobs, live_server, page, language
):
    from .test_languages import OUR_WORDING, normalised

    office = office_reading(language)
    make_supporters(office, 1, email="ada@example.net", language=language)
    case = make_case(translations=translated(language)) if language != "en" else make_case()
    start_drive(case, office, {"office": office.code})
    run_jobs()
    page.goto(live_server + preferences_path(relay))
    assert page.locator("html").get_attribute("lang") == language
    assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[language]

    def english_shown() -> list[str]:
        shown = normalised(page.locator("body").inner_text())
        return sorted(sentence for sentence in OUR_WORDING if sentence in shown)

    if language != "en":
        assert english_shown() == []
    # A phone's width, nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label(AMERICAS[language]).check()
    page.get_by_label(LAUNCH_AND_LAST[language]).check()
    page.get_by_label(A_MONTH[language]).check()
    page.get_by_role("button", name=re.compile(".")).first.click()
    page.get_by_role("status").filter(has_text=SAVED[language]).wait_for()
    if language != "en":
        assert english_shown() == []
    # What was saved is what the page shows again: the boxes ticked, the pause as a date.
    assert page.get_by_label(AMERICAS[language]).is_checked()
    assert page.get_by_label(LAUNCH_AND_LAST[language]).is_checked()
    page.screenshot(path=SCREENSHOTS / f"preferences-{language}-{page.device}.png", full_page=True)

    person = db.session.scalar(db.select(Supporter).where(Supporter.email == "ada@example.net"))
    db.session.expire_all()
    row = db.session.get(Preferences, person.id)
    assert (row.frequency, row.pause_until) == ("launch_and_last", date.today() + timedelta(days=30))
    chosen = db.session.scalars(db.select(PreferenceChoice.value).where(PreferenceChoice.supporter_id == person.id))
    assert list(chosen) == ["americas"]


def test_the_page_works_without_javascript(app, relay, run_jobs, live_server, browser):
    office = make_office()
    make_supporters(office, 1, email="ada@example.net")
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + preferences_path(relay))
        page.get_by_label("Death penalty").check()
        page.get_by_label("Pause until a date").check()
        until = date.today() + timedelta(days=10)
        page.get_by_label("Pause until", exact=True).fill(until.isoformat())
        page.get_by_role("button", name="Save my choices").click()
        page.get_by_role("status").filter(has_text="Saved.").wait_for()
        assert page.get_by_label("Pause until", exact=True).input_value() == until.isoformat()
    finally:
        context.close()
    person = db.session.scalar(db.select(Supporter).where(Supporter.email == "ada@example.net"))
    db.session.expire_all()
    assert db.session.get(Preferences, person.id).pause_until == until
