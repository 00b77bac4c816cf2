"""Language names and ISO 639-1 codes, both ways, from Babel's CLDR data."""
import unicodedata
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from flask import g, has_request_context, request

# The languages the service's own wording is translated into (translations/<code>/).
UI_LANGUAGES = ("en", "es", "fr")


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
    """"Spanish" or "español" → "es"; a two-letter code passes through."""
    folded = fold(name.strip())
    if len(folded) == 2 and folded.isalpha():
        return folded
    for in_language in ("en", "es", "fr"):
        for code, label in _names(in_language).items():
            if len(code) == 2 and fold(label) == folded:
                return code
    return None


def name_of(code: str | None, in_language: str = "en") -> str:
    """"es" → "Spanish" (or "español", "espagnol" in those languages); the code itself when unknown."""
    if not code:
        return ""
    return _names(in_language).get(code, code)


def select_locale() -> str:
    """Flask-Babel's choice for pages: the page's own language when a view set one, else the browser's."""
    if chosen := g.get("page_language"):
        return chosen
    if has_request_context():
        return request.accept_languages.best_match(UI_LANGUAGES) or "en"
    return "en"
