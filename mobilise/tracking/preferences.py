"""The preference page behind every email's footer: what the supporter chose, and saving what they choose.

Like the other links, the token names the email (its delivery), never the person; a tampered one finds nothing
and the caller answers 404. What they choose applies to every mailing of their office from the next one sent.
"""

from datetime import date, timedelta

from ..cases.regions import REGION_NAMES, REGIONS
from ..clock import today_in
from ..extensions import db
from ..languages import UI_LANGUAGES, name_of
from ..offices.themes import theme_name
from ..sending.models import Delivery
from ..supporters.preferences import FREQUENCIES, preferences_of, save_preferences
from ..tokens import make_token, read_token

# The quick choices of a pause, beside a date of one's own.
PAUSES = {"week": 7, "month": 30, "three_months": 91}
# How far ahead a pause may go: past a year, unsubscribing says it better.
LONGEST_PAUSE = timedelta(days=366)


class BadChoice(ValueError):
    """A field of the form holds what the page never offers: (field, why), shown beside it with a 422."""

    def __init__(self, field: str, why: str):
        super().__init__(f"{field}: {why}")
        self.field, self.why = field, why


def preferences_context(token: str) -> dict | None:
    ids = read_token("preferences", token)
    delivery = db.session.get(Delivery, ids[0]) if ids else None
    if delivery is None or delivery.supporter.erased_at is not None:
        return None
    supporter, office = delivery.supporter, delivery.mailing.drive.office
    chosen = preferences_of(supporter.id)
    themes = office.offered_themes
    themes += [theme for theme in chosen["themes"] if theme not in themes]  # one the office stopped offering
    return {
        "delivery": delivery,
        "supporter": supporter,
        "office": office,
        "chosen": chosen | {"language": supporter.language or office.language},
        "languages": [(code, name_of(code, code)) for code in UI_LANGUAGES],
        "regions": [(region, REGION_NAMES[region]) for region in REGIONS],
        "themes": [(theme, theme_name(theme)) for theme in themes],
        "today": today_in(office.timezone),
        "unsubscribe_token": make_token("unsubscribe", delivery.id),
        "subscribed": supporter.status == "subscribed",
    }


def read_form(form, context: dict) -> dict:
    """The form's fields as save_preferences takes them; BadChoice for anything the page does not offer."""
    language = form.get("language") or None
    if language is not None and language not in UI_LANGUAGES:
        raise BadChoice("language", "unknown")
    regions = form.getlist("regions")
    if any(region not in REGIONS for region in regions):
        raise BadChoice("regions", "unknown")
    offered = {theme for theme, _ in context["themes"]}
    themes = form.getlist("themes")
    if any(theme not in offered for theme in themes):
        raise BadChoice("themes", "unknown")
    frequency = form.get("frequency") or "all"
    if frequency not in FREQUENCIES:
        raise BadChoice("frequency", "unknown")
    return {
        "language": language,
        # Every region ticked is no choice at all: a region added later would be left out otherwise.
        "regions": [] if set(regions) == set(REGIONS) else regions,
        "themes": [] if set(themes) == offered else themes,
        "frequency": frequency,
        "pause_until": _pause_until(form, context["today"]),
    }


def _pause_until(form, today: date) -> date | None:
    pause = form.get("pause") or "date"
    if pause == "none":
        return None
    if pause in PAUSES:
        return today + timedelta(days=PAUSES[pause])
    if pause != "date":
        raise BadChoice("pause", "unknown")
    written = (form.get("pause_until") or "").strip()
    if not written:
        return None
    try:
        until = date.fromisoformat(written)
    except ValueError:
        raise BadChoice("pause_until", "not a date") from None
    if until <= today:
        raise BadChoice("pause_until", "past")
    if until > today + LONGEST_PAUSE:
        raise BadChoice("pause_until", "too far")
    return until


def save(context: dict, chosen: dict, address: str | None) -> None:
    save_preferences(context["supporter"], **chosen, source="preference page", address=address)
    db.session.commit()
