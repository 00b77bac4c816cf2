"""The letter in one language (salutation, letter, closing), the language it is sent in, its mailto: link, and
French elision before an office's name. Pure: an app for the catalogs, no database."""

from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from mobilise import create_app
from mobilise.cases.letter import MAILTO_LIMIT, compose_for, compose_letter, letters, mailto, mailto_for
from mobilise.cases.models import TRANSLATABLE, Case, CaseTranslation
from mobilise.languages import elide, of_office


@pytest.fixture(scope="module")
def catalogs():
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        yield app


def content(language="en", salutation="Mr Nicolás Maduro", letter="We call for his release.\n\nFree them all."):
    return {
        **dict.fromkeys(TRANSLATABLE),
        "language": language,
        "target_salutation": salutation,
        "model_letter": letter,
        "title": "Free them",
        "people": [],
    }


def case(target_language="es", translated=("es",), email=None):
    case = Case(
        title="Free them",
        summary="",
        model_letter="We call for his release.",
        target_name="Nicolás Maduro",
        target_salutation="Mr Nicolás Maduro",
        target_language=target_language,
        target_email=email,
        language="en",
        deadline=date(2027, 12, 31),
        people=["Eduardo Torres"],
    )
    words = {
        "es": ("Libérenlos", "Señor Presidente", "Pedimos su liberación."),
        "fr": ("Libérez-les", "Monsieur le Président", "Nous demandons sa libération."),
    }
    case.translations = [
        CaseTranslation(
            language=code, title=words[code][0], target_salutation=words[code][1], model_letter=words[code][2]
        )
        for code in translated
    ]
    return case


def test_each_language_punctuates_its_salutation_and_closes_in_its_own_words(catalogs):
    english = compose_letter(content())
    assert english.text == "Mr Nicolás Maduro,\n\nWe call for his release.\n\nFree them all.\n\nYours sincerely,"
    spanish = compose_letter(content("es", "Señor Presidente", "Pedimos su liberación."))
    assert spanish.text == "Señor Presidente:\n\nPedimos su liberación.\n\nAtentamente,"
    french = compose_letter(content("fr", "Monsieur le Président", "Nous demandons sa libération."))
    assert french.text == "Monsieur le Président,\n\nNous demandons sa libération.\n\nCordialement,"


@pytest.mark.parametrize("salutation", ["Dear Minister,", "Señor Presidente:", "Dear Sir;", "Excellency!"])
def test_a_salutation_typed_with_its_punctuation_is_not_punctuated_twice(catalogs, salutation):
    assert compose_letter(content("es", salutation)).salutation == salutation


def test_no_salutation_and_a_letter_typed_with_its_closing(catalogs):
    letter = compose_letter(content("en", None, "Release him.\n\nYours sincerely,"))
    assert letter.text == "Release him.\n\nYours sincerely,"


def test_the_letter_goes_in_the_targets_language_when_the_case_reads_whole_in_it(catalogs):
    to_send, own = letters(case(), "en")
    assert (to_send.language, own.language) == ("es", "en")
    assert to_send.text.startswith("Señor Presidente:") and "Mr Nicolás Maduro" not in to_send.text
    assert own.text.startswith("Mr Nicolás Maduro,")
    to_send, own = letters(case(translated=("es", "fr")), "fr")
    assert (to_send.language, own.language) == ("es", "fr")


def test_the_readers_letter_is_sent_when_the_target_language_is_missing_or_theirs(catalogs):
    to_send, own = letters(case(translated=()), "en")
    assert (to_send.language, own) == ("en", None)
    to_send, own = letters(case(), "es")
    assert (to_send.language, own) == ("es", None)
    to_send, own = letters(case(target_language=None, translated=("fr",)), "fr")
    assert (to_send.language, own) == ("fr", None)


def test_the_mailto_link_carries_the_address_subject_and_letter_percent_encoded(catalogs):
    letter = compose_letter(content("es", "Señor Presidente", "Pedimos su liberación.\n\nY la de todos."))
    link = mailto("presidencia+ua@example.org", "Libérenlos & ya", letter)
    assert link.with_letter
    assert "+" not in link.href.split(":", 1)[1] and " " not in link.href
    assert "%0D%0A%0D%0A" in link.href and "%20" in link.href  # RFC 6068: CRLF line breaks, spaces as %20
    parts = urlsplit(link.href)
    assert parts.scheme == "mailto" and unquote(parts.path) == "presidencia+ua@example.org"
    query = parse_qs(parts.query)
    assert query["subject"] == ["Libérenlos & ya"]
    assert query["body"] == [letter.text.replace("\n", "\r\n")]


def test_a_letter_too_long_for_a_link_leaves_the_subject_alone(catalogs):
    letter = compose_letter(content(letter="Release them now. " * 200))
    link = mailto("p@example.org", "Free them", letter)
    assert not link.with_letter and link.href == "mailto:p@example.org?subject=Free%20them"
    assert len(mailto("p@example.org", "Free them", compose_letter(content())).href) < MAILTO_LIMIT


def test_the_mailto_is_for_a_target_with_an_address_in_the_letters_language(catalogs):
    assert mailto_for(case(), letters(case(), "en")[0]) is None
    with_email = case(email="p@example.org")
    link = mailto_for(with_email, letters(with_email, "en")[0])
    assert parse_qs(urlsplit(link.href).query)["subject"] == ["Libérenlos"]


def test_gmail_and_outlook_compose_the_letter_each_up_to_what_its_link_holds(catalogs):
    with_email = case(email="presidencia@example.org", translated=())
    short = compose_for(with_email, letters(with_email, "en")[0])
    for way, subject_key in (("gmail", "su"), ("outlook", "subject")):
        fields = parse_qs(urlsplit(short.webmail[way].href).query)
        assert fields["to"] == ["presidencia@example.org"] and fields[subject_key] == ["Free them"]
        assert fields["body"] == ["Mr Nicolás Maduro,\r\n\r\nWe call for his release.\r\n\r\nYours sincerely,"]
        assert "+" not in short.webmail[way].href  # spaces as %20: Outlook shows a "+" once sign-in re-encodes it
    with_email.model_letter = "We call for the release of Eduardo Torres. " * 60  # ~2,600 characters, as UAs run
    long = compose_for(with_email, letters(with_email, "en")[0])
    assert not long.with_letter and "body=" not in long.mailto.href
    assert long.webmail["gmail"].with_letter and not long.webmail["outlook"].with_letter
    assert "body" not in parse_qs(urlsplit(long.webmail["outlook"].href).query)
    assert compose_for(case(), letters(case(), "en")[0]) is None  # a target with no email address


def test_french_elides_de_and_que_before_a_vowel_or_a_mute_h():
    assert of_office("Amnesty International France") == "d'Amnesty International France"
    assert of_office("Ligue des droits humains") == "de Ligue des droits humains"
    assert of_office("Écoute Solidarité") == "d'Écoute Solidarité"
    assert of_office("Haïti Solidarité") == "d'Haïti Solidarité"
    assert of_office("Human Rights Watch") == "de Human Rights Watch"  # an aspirated h
    assert elide("plus que Amnesty et de Amnesty", "Amnesty") == "plus qu'Amnesty et d'Amnesty"
    assert elide("les e-mails de Amnistía", "Amnesty") == "les e-mails de Amnistía"  # only before the name
    assert elide("la garde de Ouvrir", "Amnesty") == "la garde de Ouvrir"
