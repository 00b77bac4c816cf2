"""The five regions a supporter can choose cases by, and the region of every country (ISO 3166-1 alpha-2).

The regions are Amnesty International's regional programmes. A case's region is read from its country, which
staff write as a code ("VE"), or as a name in any of our languages ("Venezuela", "Venezuela (República
Bolivariana de)" is not a CLDR name and reads as no region): a case with no known country has no region.
"""

from functools import lru_cache

from babel import Locale
from flask_babel import lazy_gettext

from ..languages import UI_LANGUAGES, fold

REGIONS = ("americas", "europe-central-asia", "middle-east-north-africa", "asia-pacific", "africa")
REGION_NAMES = {
    "americas": lazy_gettext("The Americas"),
    "europe-central-asia": lazy_gettext("Europe and Central Asia"),
    "middle-east-north-africa": lazy_gettext("Middle East and North Africa"),
    "asia-pacific": lazy_gettext("Asia and the Pacific"),
    "africa": lazy_gettext("Africa"),
}

_COUNTRIES = {
    "americas": (
        "AG AI AR AW BB BL BM BO BQ BR BS BZ CA CL CO CR CU CW DM DO EC FK GD GF GL GP GS GT GY HN HT JM KN KY "
        "LC MF MQ MS MX NI PA PE PM PR PY SR SV SX TC TT UM US UY VC VE VG VI"
    ),
    "europe-central-asia": (
        "AD AL AM AT AX AZ BA BE BG BV BY CH CY CZ DE DK EE ES FI FO FR GB GE GG GI GR HR HU IE IM IS IT JE KG "
        "KZ LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM TJ TM TR UA UZ VA XK"
    ),
    "middle-east-north-africa": "AE BH DZ EG EH IL IQ IR JO KW LB LY MA OM PS QA SA SY TN YE",
    "asia-pacific": (
        "AF AQ AS AU BD BN BT CC CK CN CX FJ FM GU HK HM ID IN IO JP KH KI KP KR LA LK MH MM MN MO MP MV MY NC "
        "NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TK TL TO TV TW VN VU WF WS"
    ),
    "africa": (
        "AO BF BI BJ BW CD CF CG CI CM CV DJ ER ET GA GH GM GN GQ GW KE KM LR LS MG ML MR MU MW MZ NA NE NG RE "
        "RW SC SD SH SL SN SO SS ST SZ TD TF TG TZ UG YT ZA ZM ZW"
    ),
}

# Every country's region, by its code.
REGION_OF = {code: region for region, codes in _COUNTRIES.items() for code in codes.split()}


# Names UA documents still use that CLDR's no longer are (it says "Türkiye", "Myanmar (Burma)", "Côte d’Ivoire").
_ALIASES = {
    "turkey": "TR",
    "burma": "MM",
    "myanmar": "MM",
    "ivory coast": "CI",
    "cote d'ivoire": "CI",
    "swaziland": "SZ",
    "czech republic": "CZ",
    "macedonia": "MK",
    "north korea": "KP",
    "south korea": "KR",
    "drc": "CD",
    "democratic republic of the congo": "CD",
    "republic of the congo": "CG",
    "usa": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "palestine": "PS",
    "occupied palestinian territories": "PS",
    "israel and the occupied palestinian territories": "IL",
    "east timor": "TL",
    "cape verde": "CV",
    "vatican": "VA",
    "hong kong": "HK",
    "macau": "MO",
    "macao": "MO",
}


@lru_cache(maxsize=1)
def _codes_by_name() -> dict[str, str]:
    """Each country's name in each of our languages (CLDR's, folded: "Perú" and "peru" are one) → its code."""
    found: dict[str, str] = dict(_ALIASES)
    for language in UI_LANGUAGES:
        for code, name in Locale(language).territories.items():
            if code in REGION_OF:
                found.setdefault(fold(name), code)
    return found


def country_code(country: str | None) -> str | None:
    """ "VE", "ve", "Venezuela", "Vénézuéla" → "VE"; None when it names no country we know."""
    if not country or not country.strip():
        return None
    written = country.strip()
    if len(written) == 2 and written.upper() in REGION_OF:
        return written.upper()
    return _codes_by_name().get(fold(written))


def region_of(country: str | None) -> str | None:
    code = country_code(country)
    return REGION_OF.get(code) if code else None
