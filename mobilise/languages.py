"""Language names and ISO 639-1 codes, both ways, from Babel's CLDR data."""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from flask import current_app, g, has_request_context, request
from markupsafe import Markup, escape

# The languages the service's own wording is translated into (translations/<code>/).
UI_LANGUAGES = ("en", "es", "fr", "de", "pt", "it")


def ui_language(*wanted: str | None) -> str:
    """The first of `wanted` that our own wording is translated into, else English."""
    return next((code for code in wanted if code in UI_LANGUAGES), "en")


def fold(text: str) -> str:
    """`text` as a search compares it, accents dropped and case folded: "ROCÍO", "Rocío" and "rocio" are one.

    NFKD splits "í" into "i" and its accent (and "ﬁ" into "fi"), the accents go, and casefold is lower() that
    also matches "ß" with "ss". Language names, a UA's names and supporter searches all compare through this.
    """
    if text.isascii():  # nothing to decompose: most names and addresses
        return text.casefold()
    return "".join(map(_fold_character, text)).casefold()


@lru_cache(maxsize=4096)
def _fold_character(character: str) -> str:
    # One character at a time: NFKD of a whole string sorts each run of combining marks by insertion, which
    # is quadratic in the run; dropping the marks afterwards makes the result the same either way.
    return "".join(c for c in unicodedata.normalize("NFKD", character) if not unicodedata.combining(c))


@lru_cache(maxsize=64)
def _names(in_language: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(in_language).languages)
    except (UnknownLocaleError, ValueError):
        return dict(Locale("en").languages)


def code_for(name: str) -> str | None:
    """ "Spanish" or "español" → "es"; a two-letter code passes through."""
    folded = fold(name.strip())
    if len(folded) == 2 and folded.isalpha():
        return folded
    for in_language in UI_LANGUAGES:  # a name as our own staff and supporters write it
        for code, label in _names(in_language).items():
            if len(code) == 2 and fold(label) == folded:
                return code
    return None


def name_of(code: str | None, in_language: str = "en") -> str:
    """ "es" → "Spanish" (or "español", "espagnol" in those languages); the code itself when unknown."""
    if not code:
        return ""
    return _names(in_language).get(code, code)


@lru_cache(maxsize=256)
def _has_templates(template_folder: str, stage: str, language: str) -> bool:
    folder = Path(template_folder) / "emails" / stage / language
    return all((folder / name).is_file() for name in ("subject.txt", "body.txt", "body.html"))


def has_templates(stage: str, language: str) -> bool:
    return _has_templates(current_app.template_folder, stage, language)


def reading_language(wanted, available: set[str], fallback: str, *, stage: str | None = None) -> str:
    """The one language a reader gets: the first of `wanted`, else English, that the text has whole
    (`available`) and our own wording has too (a page's catalog, or the email templates of `stage`);
    else the text's own language (`fallback`). Never a mix of two.

    The contract's order for `wanted`: the supporter's language, then the office's."""
    for code in [*wanted, "en"]:
        if code and code in available and (has_templates(stage, code) if stage else code in UI_LANGUAGES):
            return code
    return fallback


@lru_cache(maxsize=256)
def locale_for(language: str, country: str | None) -> str:
    """The locale that formats dates and numbers: the language as written in the office's country.

    "en" in GB is en_GB ("31 December 2026"), "fr" in FR fr_FR. A pair CLDR does not know takes the
    language's own default, except English, whose default is the USA's: elsewhere it is international (en_001)."""
    if country:
        try:
            return str(Locale.parse(f"{language}_{country.upper()}"))
        except (UnknownLocaleError, ValueError):
            pass
    if language == "en" and (country or "").upper() != "US":
        return "en_001"
    return language


def use_language(language: str, country: str | None) -> None:
    """A view's page is in `language`, dates and numbers as in `country`."""
    from flask_babel import refresh

    g.page_language = language
    g.page_locale = locale_for(language, country)
    # Flask-Babel keeps the first locale it chose in the app context, which outlives one request where an app
    # context is already pushed (tests, a CLI): this page's language must win over whatever was read before it.
    refresh()


def capitalised(text: str) -> str:
    """The first letter upper case and the rest as written ("quedan 30 días" → "Quedan 30 días")."""
    text = str(text)
    return text[:1].upper() + text[1:]


def dateformat(value, format: str = "medium") -> str:
    """Flask-Babel's date filter, and French's ordinal first of the month ("1er décembre"), which CLDR leaves out."""
    from flask_babel import format_date, get_locale

    written = format_date(value, format)
    if value.day == 1 and format in ("long", "full") and getattr(get_locale(), "language", None) == "fr":
        written = re.sub(r"\b1 ", "1er ", written, count=1)
    return written


def names(people: list[str]) -> str:
    """ "Ana, Ben and Chloé" as the page's locale joins a list ("Ana, Ben y Chloé")."""
    from flask_babel import get_locale

    return format_list(list(people), locale=get_locale() or "en") if people else ""


def select_locale() -> str:
    """Flask-Babel's choice for pages: the page's own language when a view set one, else the browser's."""
    if chosen := g.get("page_locale") or g.get("page_language"):
        return chosen
    if has_request_context():
        return request.accept_languages.best_match(UI_LANGUAGES) or "en"
    return "en"


# French elides "de" and "que" before a vowel ("d'Amnesty"). Before an h only when it is mute, which no rule can
# tell from the spelling (d'Haïti, but de Hongrie, de Human Rights Watch): the few French words below are mute.
_MUTE_H = ("haïti", "homme", "hôpital", "hôtel", "histoire", "habitat", "héberg", "horizon", "humanit")


def _elides_before(name: str) -> bool:
    first = fold(name.strip())[:1]
    return first in ("a", "e", "i", "o", "u") or name.strip().lower().startswith(_MUTE_H)


def elide(text: str, name: str) -> str:
    """`text` with French "de"/"que" elided before `name` where it begins with a vowel sound:
    "les e-mails de Amnesty International France" → "les e-mails d'Amnesty International France".
    Only the words right before the name change, so the rest of a translated sentence is never touched."""
    if not name or not _elides_before(name):
        return text
    pattern = re.compile(r"(?<!\w)([Dd]e|[Qq]ue) " + re.escape(name))
    return pattern.sub(lambda match: match.group(1)[:-1] + "'" + name, text)


def of_office(name: str) -> str:
    """French "de" before an office's name, elided when it must be: "d'Amnesty International France", "de Ligue…"."""
    return elide(f"de {name}", name)


def elided(text, name: str):
    """The Jinja filter for a sentence our catalog translated with the name in it: elided in French only
    (Spanish "de Amnistía" keeps its "de"); a sentence already escaped for HTML stays so."""
    from flask_babel import get_locale

    locale = get_locale()
    if not locale or locale.language != "fr":
        return text
    if isinstance(text, Markup):
        return Markup(elide(str(text), str(escape(name))))
    return elide(text, name)
