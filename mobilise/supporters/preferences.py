"""What a supporter chose on their preference page: which cases, how many of a case's emails, a pause.

Nobody has a row until they first save the page: no row is every case, every email, no pause. The regions and
themes they chose are rows (like tags), so an audience's rule is an indexed EXISTS on both databases; a
supporter with no region rows chose every region, and the same for themes.
"""

from datetime import date

from ..clock import iso, utcnow
from ..extensions import db
from .consent import record_change
from .models import Supporter
from .preference_models import PreferenceChoice, Preferences

FREQUENCIES = ("all", "launch_and_last")
KINDS = ("region", "theme")


def preferences_of(supporter_id: int) -> dict:
    """{"regions", "themes", "frequency", "pause_until"}: what they chose, or the defaults (everything)."""
    row = db.session.get(Preferences, supporter_id)
    chosen = db.session.execute(
        db.select(PreferenceChoice.kind, PreferenceChoice.value)
        .where(PreferenceChoice.supporter_id == supporter_id)
        .order_by(PreferenceChoice.kind, PreferenceChoice.value)
    ).all()
    return {
        "regions": [value for kind, value in chosen if kind == "region"],
        "themes": [value for kind, value in chosen if kind == "theme"],
        "frequency": row.frequency if row else "all",
        "pause_until": row.pause_until if row else None,
        "changed_at": row.changed_at if row else None,
    }


def exported(supporter_id: int) -> dict:
    found = preferences_of(supporter_id)
    pause = found["pause_until"]
    return found | {"pause_until": pause.isoformat() if pause else None, "changed_at": iso(found["changed_at"])}


def save_preferences(
    supporter: Supporter,
    *,
    language: str | None,
    regions: list[str],
    themes: list[str],
    frequency: str,
    pause_until: date | None,
    source: str,
    address: str | None = None,
) -> bool:
    """Keep what they chose, and note it in their consent history with its time and source (only when something
    changed: saving the page twice is one change). Returns whether anything changed. The caller commits."""
    before = preferences_of(supporter.id)
    wanted = {"regions": sorted(set(regions)), "themes": sorted(set(themes)), "frequency": frequency}
    changed: dict[str, object] = {name: value for name, value in wanted.items() if before[name] != value}
    if before["pause_until"] != pause_until:
        changed["pause_until"] = pause_until.isoformat() if pause_until else None
    if language and language != supporter.language:
        changed["language"] = language
        supporter.language = language
    if not changed:
        return False
    row = db.session.get(Preferences, supporter.id)
    if row is None:
        row = Preferences(supporter_id=supporter.id)
        db.session.add(row)
    row.frequency, row.pause_until, row.changed_at = frequency, pause_until, utcnow()
    db.session.execute(db.delete(PreferenceChoice).where(PreferenceChoice.supporter_id == supporter.id))
    db.session.add_all(
        PreferenceChoice(supporter_id=supporter.id, kind=kind, value=value)
        for kind, values in (("region", wanted["regions"]), ("theme", wanted["themes"]))
        for value in values
    )
    record_change(supporter, "preferences", source, address=address).profile = changed
    return True


def forget_preferences(supporter_id: int) -> None:
    """At an erasure: what they chose goes with the rest."""
    db.session.execute(db.delete(PreferenceChoice).where(PreferenceChoice.supporter_id == supporter_id))
    db.session.execute(db.delete(Preferences).where(Preferences.supporter_id == supporter_id))
