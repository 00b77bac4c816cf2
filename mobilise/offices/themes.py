"""The themes a case can carry and a supporter can choose cases by.

A theme is a word (`defenders`, `death-penalty`): cases carry any such words; each office offers a short list of
them on its preference page (`Office.themes`, this list when it has none of its own). The ones below have a name
in every language of our catalogs; an office's own word is shown as written, its hyphens as spaces.
"""

from typing import Annotated

from flask_babel import lazy_gettext
from pydantic import AfterValidator, Field

THEME_NAMES = {
    "defenders": lazy_gettext("Human rights defenders"),
    "death-penalty": lazy_gettext("Death penalty"),
    "freedom-of-expression": lazy_gettext("Freedom of expression"),
    "refugees": lazy_gettext("Refugees and migrants"),
    "torture": lazy_gettext("Torture"),
    "women": lazy_gettext("Women's rights"),
}

DEFAULT_THEMES = tuple(THEME_NAMES)

# A theme as a case or an office writes it: lower-case words joined by hyphens.
THEME_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


def theme_name(theme: str):
    """Its name, translated when it is shown (a lazy string: the page picks its language after this is called)."""
    return THEME_NAMES[theme] if theme in THEME_NAMES else theme.replace("-", " ")


def english_name(name) -> str:
    """A theme's or region's name in English, whatever the browser asks for: the console is in English."""
    from flask_babel import force_locale

    with force_locale("en"):
        return str(name)


def _distinct(themes: list[str]) -> list[str]:
    return list(dict.fromkeys(themes))


# A list of themes as the API takes it (a case's, an office's offer): each once, in the order given.
Themes = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=50, pattern=THEME_PATTERN)]],
    Field(max_length=30),
    AfterValidator(_distinct),
]
