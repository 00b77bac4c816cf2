"""Every stage in every language, the catalogs behind the shared wording, and the fallbacks."""

import html as html_lib
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from mobilise.extensions import db
from mobilise.languages import UI_LANGUAGES
from mobilise.models import Mailing
from mobilise.sending.composer import Composer
from mobilise.sending.render import render
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.models import STAGES
from mobilise.sequences.service import launch

from . import builders
from .builders import bearer, make_case, make_office, make_supporters, token_for, translated

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
TRANSLATED = [code for code in UI_LANGUAGES if code != "en"]
# The English wording of the shared base: none of it may show through in another language.
ENGLISH = [
    "Hello",
    "Take action now",
    "Read the full case",
    "You receive this email",
    "Unsubscribe in one click",
    "Urgent Action",
    "days left",
    "day left",
    "Please write",
    "There is news",
    "The deadline is",
    "Thank you",
    "Time is running out",
    "More time",
    "Good news",
    "News:",
]
TITLES = {
    "es": "Cesen las detenciones",
    "fr": "Cessez les détentions",
    "de": "Beendet die Inhaftierungen",
    "pt": "Ponham fim às detenções",
    "it": "Fermate le detenzioni",
}
# A case translated field by field into every language: what is left in English is ours, not the case's.
FULL_TRANSLATIONS = {
    code: {**builders.TRANSLATED[code], **fields}
    for code, fields in {
        "es": {
            "title": TITLES["es"],
            "summary": "Eduardo Torres está detenido en El Helicoide sin juicio.",
            "model_letter": "Pedimos su liberación inmediata.",
            "additional_information": "Lleva un año detenido.",
        },
        "fr": {
            "title": TITLES["fr"],
            "summary": "Eduardo Torres est détenu à El Helicoide sans procès.",
            "model_letter": "Nous demandons sa libération immédiate.",
            "additional_information": "Il est détenu depuis un an.",
        },
        "de": {
            "title": TITLES["de"],
            "summary": "Eduardo Torres ist ohne Prozess in El Helicoide inhaftiert.",
            "model_letter": "Wir fordern seine sofortige Freilassung.",
            "additional_information": "Er ist seit einem Jahr in Haft.",
        },
        "pt": {
            "title": TITLES["pt"],
            "summary": "Eduardo Torres está detido em El Helicoide sem julgamento.",
            "model_letter": "Pedimos a sua libertação imediata.",
            "additional_information": "Está detido há um ano.",
        },
        "it": {
            "title": TITLES["it"],
            "summary": "Eduardo Torres è detenuto a El Helicoide senza processo.",
            "model_letter": "Chiediamo il suo rilascio immediato.",
            "additional_information": "È detenuto da un anno.",
        },
    }.items()
}
# How translations/messages.pot is made (the README's command): the staleness test extracts the same way.
EXTRACT = [
    "pybabel",
    "extract",
    "-F",
    str(ROOT / "babel.cfg"),
    "-k",
    "lazy_gettext",
    "-k",
    "lazy_ngettext:1,2",
    "--ignore-dirs",
    ".* .venv",
    "--omit-header",
]
PLACEHOLDERS = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[sdifr%]")
URL = re.compile(r"https?://\S+")


def visible(html: str) -> str:
    """The text a reader sees in an HTML email or page: no tags, no script, entities decoded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


def normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def sentences(text: str, untranslatable=()) -> set[str]:
    """The sentences and lines of `text` with at least three words, less what no translation changes
    (names, addresses, URLs): each is cut out, so what surrounds it stands alone."""
    text = URL.sub("\n", text)
    for part in sorted(filter(None, untranslatable), key=len, reverse=True):
        text = re.sub(re.escape(part), "\n", text, flags=re.I)
    pieces = re.split(r"[.!?:;()\n]+|\s[-–—]\s", text)
    return {normalised(piece).strip(" ,") for piece in pieces if len(re.findall(r"[^\W\d_]+", piece)) >= 3}


def leaked(english: str, other: str, untranslatable=()) -> list[str]:
    other = normalised(other)
    return sorted(sentence for sentence in sentences(english, untranslatable) if sentence in other)


@pytest.fixture
def drive(app):
    office = make_office(reminder_days=[3])
    case = make_case(high_risk=False, translations=FULL_TRANSLATIONS)
    return launch(case, office, {"office": "GB"})


@pytest.mark.parametrize("language", UI_LANGUAGES)
@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_renders_in_each_language(app, drive, stage, language):
    mailing = Mailing(
        drive=drive,
        stage=stage,
        audience="all",
        send_at=drive.mailings[0].send_at,
        body="Staff's words.",
        body_translations={code: "Staff's words." for code in TRANSLATED},
    )
    db.session.add(mailing)
    db.session.commit()
    message = Composer(mailing).message(1, email="p@example.net", first_name="Ana", language=language)
    html, text = message.html, message.body
    assert f'<html lang="{language}">' in html
    assert "Staff's words." in text and "Staff's words." in html
    assert "Ana," in text
    assert "{{" not in html + text + message.subject and "@@" not in html + text + message.subject
    if language != "en":
        shown = visible(html) + text + message.subject
        assert [phrase for phrase in ENGLISH if phrase in shown] == [], f"untranslated in {stage}/{language}"
        assert TITLES[language] in message.subject + html


def _read_po(path: Path):
    with open(path, "rb") as po_file:
        return read_po(po_file)


def _forms(value) -> tuple:
    """A message's id or string as a tuple: one item, or one per plural form."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _msgids(catalog) -> set[str]:
    return {_forms(message.id)[0] for message in catalog if message.id}


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_translates_every_message_with_the_same_placeholders(language):
    """A developer who adds _("…") and does not translate it into every language gets a red test."""
    po = _read_po(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    wanted = _msgids(_read_po(TRANSLATIONS / "messages.pot"))
    assert sorted(wanted - _msgids(po)) == [], "run: pybabel update -i translations/messages.pot -d translations"
    assert sorted(_msgids(po) - wanted) == [], "no longer in the sources: run pybabel update"
    assert [m.id for m in po if m.id and not all(_forms(m.string))] == [], "untranslated"
    assert [m.id for m in po if m.id and m.fuzzy] == [], "fuzzy: check the translation and remove the flag"
    assert [(m.id, [str(e) for e in errors]) for m, errors in po.check()] == []
    # Babel's check lets a translation drop a placeholder; a dropped %(office)s or %(num)d is a lost fact.
    differ = []
    for message in po:
        if message.id:
            expected = {p for msgid in _forms(message.id) for p in PLACEHOLDERS.findall(msgid)}
            differ += [(message.id, s) for s in _forms(message.string) if set(PLACEHOLDERS.findall(s)) != expected]
    assert differ == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_is_compiled(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with open(folder / "messages.mo", "rb") as mo_file:
        mo = read_mo(mo_file)

    def table(catalog):
        return {_forms(m.id): _forms(m.string) for m in catalog if m.id}

    assert table(_read_po(folder / "messages.po")) == table(mo), "run: pybabel compile -d translations"


def test_messages_pot_holds_every_message_of_the_sources(tmp_path):
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run([EXTRACT[0], "--quiet", *EXTRACT[1:], "-o", str(fresh), str(ROOT)])
    stale = _msgids(_read_po(fresh)) ^ _msgids(_read_po(TRANSLATIONS / "messages.pot"))
    assert sorted(stale) == [], "run the README's pybabel extract, then pybabel update"


@pytest.mark.parametrize("language", UI_LANGUAGES)
@pytest.mark.parametrize("stage", (*STAGES, "confirm"))
def test_each_stage_has_its_three_templates_in_each_language(stage, language):
    folder = ROOT / "templates" / "emails" / stage / language
    assert [name for name in ("subject.txt", "body.txt", "body.html") if not (folder / name).is_file()] == []


@pytest.fixture
def translated_cases(app):
    """An office's staff, and a case in every language with and without high risk (whose wording differs)."""
    office = make_office()
    cases = [
        make_case(reference=f"UA 5{n}/25", high_risk=high_risk, translations=FULL_TRANSLATIONS)
        for n, high_risk in enumerate((False, True))
    ]
    return office, cases, token_for("staff@uk.example.org", office="GB")


def _untranslatable(case, office, language) -> list[str]:
    """What stays as it is in every language: names, addresses, references; and, while the case does not
    translate them, the target's title and salutation and the pronoun."""
    english, translated = case.content("en"), case.content(language)
    unchanged = [
        english[field]
        for field in ("target_title", "target_salutation", "pronoun")
        if english[field] == translated[field]
    ]
    return [
        *english["people"],
        case.target_name,
        *(case.target_address or "").splitlines(),
        case.reference,
        case.ai_index,
        office.name,
        *office.postal_address.splitlines(),
        "Alex",
        *unchanged,
    ]


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("stage", (*STAGES, "confirm"))
def test_no_english_sentence_shows_through_an_email_in_another_language(app, client, translated_cases, stage, language):
    office, cases, staff = translated_cases
    for case in cases:
        if stage == "confirm":  # not a stage staff preview: it goes to whoever signs up
            context = {"office": office, "confirm_url": "http://mobilise.test/confirm/token"}
            english, other = (render("confirm", code, context) for code in ("en", language))
            english, other = ((e.subject, e.text, e.html) for e in (english, other))
        else:

            def preview(code):
                answer = client.get(
                    f"/api/v1/cases/{case.id}/preview?stage={stage}&language={code}", headers=bearer(staff)
                )
                assert answer.status_code == 200 and answer.json["language"] == code
                return answer.json["subject"], answer.json["text"], answer.json["html"]

            english, other = preview("en"), preview(language)
        subject, text, html = english
        wording = "\n".join([subject, text, visible(html)])
        untranslatable = _untranslatable(case, office, language)
        assert sentences(wording, untranslatable), "nothing left to compare: the test compares nothing"
        for part in (other[0], other[1], visible(other[2])):
            assert leaked(wording, part, untranslatable) == [], f"{stage}/{language}, high risk: {case.high_risk}"


# Our own English wording, cut at its placeholders: none of it may show on a page in another language.
OUR_WORDING = set().union(
    *(
        sentences(PLACEHOLDERS.sub("\n", msgid))
        for msgid in (text for m in _read_po(TRANSLATIONS / "messages.pot") if m.id for text in _forms(m.id))
    )
)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_public_pages_are_in_the_supporters_language(app, client, relay, run_jobs, language):
    office = make_office(language=language)
    make_supporters(office, 1, language=language)
    case = make_case(translations=FULL_TRANSLATIONS)
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    email = relay.messages()[0].get_body(("html",)).get_content()
    act, unsubscribe, preferences = (
        re.search(rf'href="http://mobilise\.test(/{kind}/[^"]+)"', email).group(1)
        for kind in ("act", "unsubscribe", "preferences")
    )
    browser = {"Accept-Language": language}
    relay.received.clear()
    pages = {
        "sign-up": client.get("/subscribe/GB", headers=browser),
        "sign-up refused": client.post("/subscribe/GB", data={"email": "nobody"}, headers=browser),
        "sign-up sent": client.post(
            "/subscribe/GB", data={"email": "new@example.org", "language": language}, headers=browser
        ),
    }
    run_jobs()
    confirm = re.search(
        r"http://mobilise\.test(/confirm/\S+)", relay.messages()[0].get_body(("plain",)).get_content()
    ).group(1)
    pages |= {
        "confirm": client.get(confirm),
        "confirmed": client.post(confirm),
        "action": client.get(act),
        "preferences": client.get(preferences),
        "preferences saved": client.post(preferences, data={"regions": ["africa"], "pause": "month"}),
        "preferences refused": client.post(preferences, data={"pause_until": "tomorrow"}),
        "unsubscribe": client.get(unsubscribe),
        "unsubscribed": client.post(unsubscribe),
        "case": client.get(f"/cases/{case.slug}?office=GB"),
    }
    for name, page in pages.items():
        assert page.status_code in (200, 202, 422), name
        body = page.get_data(as_text=True)
        assert f'<html lang="{language}">' in body, name
        shown = normalised(visible(body))
        assert sorted(sentence for sentence in OUR_WORDING if sentence in shown) == [], f"English on the {name} page"
    assert TITLES[language] in pages["action"].get_data(as_text=True)


def test_a_language_the_case_lacks_falls_back_to_the_office(app, relay, run_jobs):
    from mobilise.sequences.dispatch import start_drive

    spain = make_office(code="ES", name="España", language="es", timezone="Europe/Madrid", sender="a@es.example.org")
    make_supporters(spain, 1, language="de")
    case = make_case(translations=translated("es", title="Cesen las detenciones"))
    start_drive(case, spain, {"office": "ES"})
    run_jobs()
    [message] = relay.messages()
    assert message["Subject"] == "Acción Urgente: Cesen las detenciones"


def test_staff_preview_any_stage_in_any_language_and_send_themselves_a_test(app, client, relay):
    office = make_office()
    make_supporters(office, 3)
    case = make_case(translations=translated("fr", title="Cessez les détentions"))
    staff = token_for("staff@uk.example.org", office="GB")
    preview = client.get(f"/api/v1/cases/{case.id}/preview?stage=reminder&language=fr&body=Vite", headers=bearer(staff))
    assert preview.status_code == 200
    assert preview.json["language"] == "fr" and preview.json["audience"] == "not_acted"
    assert "Cessez les détentions" in preview.json["subject"] and "Vite" in preview.json["text"]
    assert "/o/" not in preview.json["html"] and "/c/" not in preview.json["html"]
    assert db.session.scalar(db.select(db.func.count(Mailing.id))) == 0  # a preview saves nothing

    sent = client.post(
        f"/api/v1/cases/{case.id}/test-email", json={"stage": "launch", "language": "en"}, headers=bearer(staff)
    )
    assert sent.status_code == 202
    assert relay.recipients() == ["staff@uk.example.org"]
    assert relay.messages()[0]["Subject"].startswith("[TEST] Urgent Action:")

    assert client.get(f"/api/v1/cases/{case.id}/preview?stage=gossip", headers=bearer(staff)).status_code == 422
    admin = token_for("admin@example.org", admin=True)
    assert client.get(f"/api/v1/cases/{case.id}/preview", headers=bearer(admin)).status_code == 422
    assert client.get(f"/api/v1/cases/{case.id}/preview?office=GB", headers=bearer(admin)).status_code == 200
