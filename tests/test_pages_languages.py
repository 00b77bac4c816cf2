"""The public pages and the downloaded UA wholly in the reader's language: no English sentence of the English
rendering shows up in the Spanish, French, German, Portuguese or Italian one; dates as the office's country writes them; French elision."""

import re
from datetime import date

import pytest

from mobilise.cases.letter import compose_letter
from mobilise.extensions import db
from mobilise.models import Case
from mobilise.sequences.dispatch import start_drive

from .builders import case_data, make_case, make_office, make_supporters, translated
from .leaks import english_leaks, pdf_lines, pdf_text, rtf_text, sentences, visible_text

SPAIN = {
    "code": "ES",
    "name": "Amnistía Internacional España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "a@es.example.org",
}
FRANCE = {
    "code": "FR",
    "name": "Amnesty International France",
    "language": "fr",
    "timezone": "Europe/Paris",
    "sender": "actions@fr.example.org",
}
GERMANY = {
    "code": "DE",
    "name": "Amnesty International Deutschland",
    "language": "de",
    "timezone": "Europe/Berlin",
    "sender": "eilaktionen@de.example.org",
}
PORTUGAL = {
    "code": "PT",
    "name": "Amnistia Internacional Portugal",
    "language": "pt",
    "timezone": "Europe/Lisbon",
    "sender": "acoes@pt.example.org",
}
ITALY = {
    "code": "IT",
    "name": "Amnesty International Italia",
    "language": "it",
    "timezone": "Europe/Rome",
    "sender": "azioni@it.example.org",
}
OFFICES = {"en": {}, "es": SPAIN, "fr": FRANCE, "de": GERMANY, "pt": PORTUGAL, "it": ITALY}
TRANSLATED_LANGUAGES = [code for code in OFFICES if code != "en"]
ADDITIONAL = {
    "en": "The government has long persecuted human rights defenders.",
    "es": "El gobierno persigue desde hace años a las personas defensoras.",
    "fr": "Le gouvernement persécute depuis longtemps les défenseur·e·s.",
    "de": "Die Regierung verfolgt Menschenrechtsverteidiger*innen seit Langem.",
    "pt": "O governo persegue há muito tempo quem defende os direitos humanos.",
    "it": "Il governo perseguita da tempo chi difende i diritti umani.",
}
DEADLINE = date(date.today().year + 1, 12, 31)
LONG_DATE = {
    "en": f"31 December {DEADLINE.year}",
    "es": f"31 de diciembre de {DEADLINE.year}",
    "fr": f"31 décembre {DEADLINE.year}",
    "de": f"31. Dezember {DEADLINE.year}",
    "pt": f"31 de dezembro de {DEADLINE.year}",
    "it": f"31 dicembre {DEADLINE.year}",
}
TARGET_EMAIL = "presidencia@gob.example.org"


@pytest.fixture
def readers(app, relay, run_jobs):
    """One reader per language, each at the office of that language, all sent the same case; their action pages."""
    offices = {language: make_office(**data) for language, data in OFFICES.items()}
    for language, office in offices.items():
        make_supporters(office, 1, language=language)
    case = make_case(
        deadline=DEADLINE.isoformat(),
        additional_information=ADDITIONAL["en"],
        previous_reference="www.amnesty.org/en/documents/amr53/9384/2025/en/",
        target={**case_data()["target"], "email": TARGET_EMAIL},
        translations={
            code: translated(code, additional_information=ADDITIONAL[code])[code] for code in TRANSLATED_LANGUAGES
        },
    )
    for office in offices.values():
        start_drive(case, office, {"office": office.code})
    run_jobs()
    act = {}
    for message in relay.messages():
        language = next(
            code for code, office in offices.items() if message["To"].endswith(f"@{office.code.lower()}.example.net")
        )
        act[language] = re.search(
            r'href="http://mobilise\.test(/act/[^"]+)"', message.get_body(("html",)).get_content()
        ).group(1)
    return {"case": case, "offices": offices, "act": act}


def untranslatable(readers) -> list[str]:
    """Names, addresses, references, and the letter both renderings send in the target's language (Spanish)."""
    case = db.session.get(Case, readers["case"].id)
    return [
        "Nicolás Maduro",
        "Eduardo Torres",
        "Person0",
        "Palacio de Miraflores\nCaracas, Venezuela",
        TARGET_EMAIL,
        "UA 53/25",
        "AMR 53/9384/2025",
        *(office.name for office in readers["offices"].values()),
        compose_letter(case.content("es")).text,
    ]


def assert_wholly_in(language, english: str, other: str, readers):
    names = untranslatable(readers)
    assert len(sentences(english, names)) >= 8, "the English rendering has our wording to compare"
    assert english_leaks(english, other, names) == [], language


def test_the_leak_finder_finds_english_and_passes_names():
    english = "Write to Nicolás Maduro.\nTake action now, until 31 December.\nPeople concerned: Eduardo Torres"
    assert english_leaks(
        english, "Escribe a Nicolás Maduro. Take action now, until 31 December.", ["Nicolás Maduro"]
    ) == ["Take action now, until 31 December"]
    assert (
        english_leaks(
            english, "Personas: Eduardo Torres. Escribe a Nicolás Maduro.", ["Eduardo Torres", "Nicolás Maduro"]
        )
        == []
    )


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_action_page_and_its_thanks_are_wholly_in_the_readers_language(client, readers, language):
    english = visible_text(client.get(readers["act"]["en"]).get_data(as_text=True))
    other = visible_text(client.get(readers["act"][language]).get_data(as_text=True))
    assert_wholly_in(language, english, other, readers)
    english = visible_text(client.post(readers["act"]["en"]).get_data(as_text=True))
    other = visible_text(client.post(readers["act"][language]).get_data(as_text=True))
    assert {
        "es": "Gracias, Person0.",
        "fr": "Merci, Person0.",
        "de": "Danke, Person0!",
        "pt": "Obrigado, Person0.",
        "it": "Grazie, Person0.",
    }[language] in other
    assert_wholly_in(language, english, other, readers)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_public_case_page_and_the_downloads_are_wholly_in_the_readers_language(client, readers, language):
    slug = readers["case"].slug
    code = readers["offices"][language].code
    english = visible_text(client.get(f"/cases/{slug}?office=GB").get_data(as_text=True))
    other = visible_text(client.get(f"/cases/{slug}?office={code}").get_data(as_text=True))
    assert_wholly_in(language, english, other, readers)
    english = pdf_lines(client.get(f"/cases/{slug}/ua.pdf?lang=en&office=GB").data)
    other = pdf_lines(client.get(f"/cases/{slug}/ua.pdf?lang={language}&office={code}").data)
    assert_wholly_in(language, english, other, readers)
    english = rtf_text(client.get(f"/cases/{slug}/ua.rtf?lang=en&office=GB").data)
    other = rtf_text(client.get(f"/cases/{slug}/ua.rtf?lang={language}&office={code}").data)
    assert_wholly_in(language, english, other, readers)


@pytest.mark.parametrize("language", list(OFFICES))
def test_every_date_on_the_pages_and_in_the_pdf_is_written_as_the_offices_country_writes_it(client, readers, language):
    slug, code = readers["case"].slug, readers["offices"][language].code
    rendered = {
        "action page": visible_text(client.get(readers["act"][language]).get_data(as_text=True)),
        "case page": visible_text(client.get(f"/cases/{slug}?office={code}").get_data(as_text=True)),
        "pdf": pdf_text(client.get(f"/cases/{slug}/ua.pdf?lang={language}&office={code}").data),
        "rtf": rtf_text(client.get(f"/cases/{slug}/ua.rtf?lang={language}&office={code}").data),
    }
    for where, text in rendered.items():
        assert LONG_DATE[language] in text, where
        assert not re.search(r"December \d{1,2}, \d{4}", text), where  # never the US order


def test_the_pdf_follows_the_drives_deadline_and_the_offices_country(client, readers):
    from mobilise.sequences.models import Drive

    drive = db.session.scalar(db.select(Drive).where(Drive.office_id == readers["offices"]["fr"].id))
    drive.deadline = date(DEADLINE.year, 11, 30)
    db.session.commit()
    slug = readers["case"].slug
    assert f"30 novembre {DEADLINE.year}" in pdf_text(client.get(f"/cases/{slug}/ua.pdf?lang=fr&office=FR").data)
    assert LONG_DATE["fr"] in pdf_text(client.get(f"/cases/{slug}/ua.pdf?lang=fr").data)  # no office: the case's


def test_the_spanish_pdf_headings_and_letter_are_spanish(client, readers):
    text = pdf_text(client.get(f"/cases/{readers['case'].slug}/ua.pdf?lang=es&office=ES").data)
    for expected in (
        "ACCIÓN URGENTE",
        "Índice: AMR 53/9384/2025",
        "CESEN LAS DETENCIONES",
        "ACTÚA: ESCRIBE UN LLAMAMIENTO",
        "Señor Presidente: Pedimos la liberación inmediata de Eduardo Torres. Atentamente,",
        "INFORMACIÓN ADICIONAL",
        "IDIOMA PREFERIDO PARA DIRIGIRSE AL DESTINATARIO: español",
        "También puedes escribir en tu propio idioma.",
        f"HASTA EL {LONG_DATE['es']}",
        "NOMBRE Y PRONOMBRE PREFERIDO: Eduardo Torres (él)",
        "ENLACE A LA AU ANTERIOR: www.amnesty.org/en/",
    ):
        assert expected in text, expected
    assert "Yours sincerely" not in text and "Mr Nicolás Maduro" not in text


def test_the_english_pdf_gives_the_spanish_letter_to_send_and_the_english_one_to_read(client, readers):
    text = pdf_text(client.get(f"/cases/{readers['case'].slug}/ua.pdf?lang=en&office=GB").data)
    send = text.index("This letter is in Spanish, the language Nicolás Maduro reads.")
    spanish = text.index("Señor Presidente: Pedimos la liberación inmediata de Eduardo Torres. Atentamente,")
    english = text.index(
        "THE SAME LETTER IN ENGLISH Mr Nicolás Maduro, We call for the immediate release of Eduardo Torres. Yours sincerely,"
    )
    assert send < spanish < english
    assert "NAME AND PREFERRED PRONOUN: Eduardo Torres (he/him)" in text


def test_the_days_left_badge_starts_with_a_capital(client, readers):
    page = client.get(readers["act"]["es"]).get_data(as_text=True)
    assert re.search(r'<span class="days">Quedan \d+ días</span>', page)


def test_the_letter_to_send_is_spanish_and_the_readers_own_is_there_to_read(client, readers):
    english = client.get(readers["act"]["en"]).get_data(as_text=True)
    assert '<div class="letter" id="letter" lang="es"' in english
    assert "This letter is in Spanish, the language Nicolás Maduro reads." in english
    assert "<summary>The same letter in English</summary>" in english and 'lang="en">Mr Nicolás Maduro,' in english
    french = client.get(readers["act"]["fr"]).get_data(as_text=True)
    assert "Cette lettre est en espagnol, la langue que lit Nicolás Maduro." in french
    assert "<summary>La même lettre en français</summary>" in french and "Cordialement," in french
    spanish = client.get(readers["act"]["es"]).get_data(as_text=True)
    assert 'class="own-letter"' not in spanish and spanish.count("Señor Presidente:") == 1


def test_a_target_language_the_case_lacks_sends_the_readers_letter_and_says_the_preferred_one(
    app, client, relay, run_jobs
):
    office = make_office(**FRANCE)
    make_supporters(office, 1, language="fr")
    start_drive(make_case(translations=translated("fr")), office, {"office": "FR"})
    run_jobs()
    act = re.search(
        r'href="http://mobilise\.test(/act/[^"]+)"', relay.messages()[0].get_body(("html",)).get_content()
    ).group(1)
    page = client.get(act).get_data(as_text=True)
    assert '<div class="letter" id="letter" lang="fr"' in page and 'class="own-letter"' not in page
    assert (
        "Langue à privilégier pour écrire au destinataire : espagnol. Vous pouvez aussi écrire dans votre langue."
        in page
    )
    assert 'id="mailto"' not in page  # no address for the target


def test_french_elides_before_the_offices_name_on_the_pages_and_in_the_confirmation(app, client, relay, run_jobs):
    make_office(**FRANCE)
    client.post("/subscribe/FR", data={"email": "lea@example.org", "language": "fr"})
    run_jobs()
    text = relay.messages()[0].get_body(("plain",)).get_content()
    assert "les e-mails Action urgente d'Amnesty International France." in text
    confirm = re.search(r"http://mobilise\.test(/confirm/[A-Za-z0-9._-]+)", text).group(1)
    page = visible_text(client.get(confirm).get_data(as_text=True))
    assert "les e-mails Action urgente d'Amnesty International France." in page
    assert "de Amnesty" not in page and "de Amnesty" not in text


def test_french_elides_on_the_unsubscribe_page_and_in_the_footer_of_every_email(client, relay, readers):
    message = next(m for m in relay.messages() if m["To"].endswith("@fr.example.net"))
    for part in ("plain", "html"):
        footer = message.get_body((part,)).get_content()
        assert "réseau Actions urgentes d'Amnesty International France" in footer and "de Amnesty" not in footer
    link = re.search(
        r'href="http://mobilise\.test(/unsubscribe/[^"]+)"', message.get_body(("html",)).get_content()
    ).group(1)
    page = visible_text(client.get(link).get_data(as_text=True))
    assert "Vous ne recevrez plus d'e-mails Actions urgentes d'Amnesty International France." in page


def test_spanish_keeps_de_before_a_vowel(app, client, relay, run_jobs):
    make_office(**{**SPAIN, "name": "Amnistía Internacional España"})
    client.post("/subscribe/ES", data={"email": "ana@example.org", "language": "es"})
    run_jobs()
    text = relay.messages()[0].get_body(("plain",)).get_content()
    confirm = re.search(r"http://mobilise\.test(/confirm/[A-Za-z0-9._-]+)", text).group(1)
    assert "d'Amnist" not in client.get(confirm).get_data(as_text=True)


def test_the_demo_reads_the_seed_ua_wholly_in_spanish_and_french(app, client):
    from mobilise.demo import load_demo

    load_demo()
    case = db.session.scalar(db.select(Case))
    assert case.languages() == {"en", "es", "fr"}
    names = [
        *case.people,
        case.target_name,
        case.target_address,
        "UA 53/25",
        "AMR 53/9384/2025",
        "Amnesty International UK",
        "Amnistía Internacional España",
        "Amnesty International France",
        compose_letter(case.content("es")).text,
    ]
    english = {
        "page": visible_text(client.get(f"/cases/{case.slug}?office=GB").get_data(as_text=True)),
        "pdf": pdf_lines(client.get(f"/cases/{case.slug}/ua.pdf?lang=en&office=GB").data),
    }
    for language, code in (("es", "ES"), ("fr", "FR")):
        other = {
            "page": visible_text(client.get(f"/cases/{case.slug}?office={code}").get_data(as_text=True)),
            "pdf": pdf_lines(client.get(f"/cases/{case.slug}/ua.pdf?lang={language}&office={code}").data),
        }
        for kind in english:
            assert len(sentences(english[kind], names)) >= 30
            assert english_leaks(english[kind], other[kind], names) == [], (language, kind)
    spanish = pdf_text(client.get(f"/cases/{case.slug}/ua.pdf?lang=es&office=ES").data)
    assert "Presidente de la República Nicolás Maduro" in spanish and "Señor Presidente: Tomamos nota" in spanish
    assert "NOMBRE Y PRONOMBRE PREFERIDO: Venezuelan human rights defenders (ellos/ellas)" in spanish
