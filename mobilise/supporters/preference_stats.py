"""What an office's supporters choose on their preference page, and whether fewer leave since it exists.

Counted over the office's subscribed supporters (an unsubscribed one's old choices no longer matter); the
unsubscribes are the consent history's withdrawals, by calendar month (UTC), split at the moment the office's
emails began to link to the page (`Office.preferences_since`).
"""

from datetime import datetime

from ..clock import iso, today_in
from ..extensions import db
from ..offices.models import Office
from .models import ConsentChange, Supporter
from .preferences import PreferenceChoice, Preferences


def preference_stats(office: Office, *, now: datetime | None = None) -> dict:
    today = today_in(office.timezone, now)
    subscribed = (Supporter.office_id == office.id) & (Supporter.status == "subscribed")
    chosen = db.session.execute(
        db.select(PreferenceChoice.kind, PreferenceChoice.value, db.func.count())
        .join(Supporter, Supporter.id == PreferenceChoice.supporter_id)
        .where(subscribed)
        .group_by(PreferenceChoice.kind, PreferenceChoice.value)
    ).all()
    paused, launch_and_last = db.session.execute(
        db.select(
            db.func.count().filter(Preferences.pause_until > today),
            db.func.count().filter(Preferences.frequency == "launch_and_last"),
        )
        .join(Supporter, Supporter.id == Preferences.supporter_id)
        .where(subscribed)
    ).one()
    # Counted from those who saved a preference (few), not by a test on every row of the list (a million).
    fewer = db.union(
        db.select(PreferenceChoice.supporter_id),
        db.select(Preferences.supporter_id).where(
            (Preferences.pause_until > today) | (Preferences.frequency == "launch_and_last")
        ),
    ).subquery()
    chose_fewer = db.session.scalar(
        db.select(db.func.count())
        .select_from(fewer)
        .join(Supporter, Supporter.id == fewer.c.supporter_id)
        .where(subscribed)
    )
    total = db.session.scalar(db.select(db.func.count()).select_from(Supporter).where(subscribed))
    return {
        "office": office.code,
        "subscribed": total,
        "chose_fewer": chose_fewer,
        "regions": {value: n for kind, value, n in sorted(chosen) if kind == "region"},
        "themes": {value: n for kind, value, n in sorted(chosen) if kind == "theme"},
        "launch_and_last": launch_and_last,
        "paused": paused,
        "page_since": iso(office.preferences_since),
        "unsubscribes_by_month": unsubscribes_by_month(office),
    }


def unsubscribes_by_month(office: Office) -> list[dict]:
    """[{"month": "2026-11", "before_page", "after_page"}], oldest first: a month the page began in has both."""
    year, month = db.extract("year", ConsentChange.at), db.extract("month", ConsentChange.at)
    after = ConsentChange.at >= office.preferences_since
    rows = db.session.execute(
        db.select(year, month, db.func.count().filter(~after), db.func.count().filter(after))
        .join(Supporter, Supporter.id == ConsentChange.supporter_id)
        .where(Supporter.office_id == office.id, ConsentChange.change == "withdrawn")
        .group_by(year, month)
        .order_by(year, month)
    ).all()
    return [
        {"month": f"{int(y):04d}-{int(m):02d}", "before_page": before, "after_page": since}
        for y, m, before, since in rows
    ]
