"""Language names and ISO 639-1 codes, both ways, from Babel's CLDR data."""
import unicodedata
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from flask import g, has_request_context, request

# The languages the service's own wording is translated into (translations/<code>/).
UI_LANGUAGES = ("en", "es", "fr", "de", "pt", "it")


def ui_language(*wanted: str | None) -> str:
    """The first of `wanted` that our own wording is translated into, else English."""
    return next((code for code in wanted if code in UI_LANGUAGES), "en")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


@lru_cache(maxsize=64)
def _names(in_language: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(in_language).languages)
    except (UnknownLocaleError, ValueError):
        return dict(Locale("en").languages)


def code_for(name: str) -> str | None:
    """"Spanish" or "español" → "es"; a two-letter code passes through."""
    folded = _fold(name)
    if len(folded) == 2 and folded.isalpha():
        return folded
    for in_language in UI_LANGUAGES:  # a name as our own staff and supporters write it
        for code, label in _names(in_language).items():
            if len(code) == 2 and _fold(label) == folded:
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
