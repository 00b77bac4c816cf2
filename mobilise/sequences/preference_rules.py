"""What supporters' preferences leave out of a mailing's audience, as conditions on the supporter's row.

Each rule is a reason and an SQL condition true for those it leaves out: the audience takes none of them, and
the launch's `audience` counts them by the first reason that holds (so the reasons add up to those left out).
An outcome's good news goes to those who acted whatever they chose: no rule touches it.
"""

from datetime import datetime

from ..clock import today_in
from ..extensions import db
from ..supporters.models import Supporter
from ..supporters.preferences import PreferenceChoice, Preferences
from .models import Drive, Mailing

# The order the launch's `audience` counts them in.
REASONS = ("paused", "regions", "themes", "frequency")
# The stages a `launch_and_last` supporter gets none of (their reminders: all but the last).
NOT_LAUNCH_AND_LAST = ("update", "extension")


def _chose(kind: str, who):
    return (
        db.select(PreferenceChoice.supporter_id)
        .where(PreferenceChoice.supporter_id == who, PreferenceChoice.kind == kind)
        .exists()
    )


def _chose_one_of(kind: str, values: list[str], who):
    return (
        db.select(PreferenceChoice.supporter_id)
        .where(PreferenceChoice.supporter_id == who, PreferenceChoice.kind == kind, PreferenceChoice.value.in_(values))
        .exists()
    )


def left_out_reasons(drive: Drive, stage: str, *, last_reminder: bool, now: datetime):
    """(supporter_id, reason) of everyone this stage of `drive` leaves out, by the first reason that holds; read
    from the supporters who saved a preference only (nobody else can be left out by one), so that a page showing
    an audience does not weigh every row of a list of a million. None when no rule applies to the stage."""
    chose = db.union(db.select(Preferences.supporter_id), db.select(PreferenceChoice.supporter_id)).subquery()
    rules = rules_for(drive, stage, last_reminder=last_reminder, now=now, who=chose.c.supporter_id)
    if not rules:
        return None
    reason = db.case(*((condition, name) for name, condition in rules), else_=None).label("reason")
    # Materialised: each reason is weighed once, for those who chose, rather than again inside the join.
    found = (
        db.select(chose.c.supporter_id, reason)
        .cte("preference_reasons")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return db.select(found.c.supporter_id, found.c.reason).where(found.c.reason.is_not(None)).subquery()


def rules_for(
    drive: Drive, stage: str, *, last_reminder: bool, now: datetime, who=Supporter.id
) -> list[tuple[str, object]]:
    """(reason, condition) for each preference that can leave someone out of this stage of `drive`'s case: a
    condition on the supporter whose id is `who`."""
    if stage == "outcome":
        return []
    case, office = drive.case, drive.office
    # Paused until a day means nothing before it, by the office's calendar: on that day mail starts again.
    today = today_in(office.timezone, now)
    paused = (
        db.select(Preferences.supporter_id)
        .where(Preferences.supporter_id == who, Preferences.pause_until > today)
        .exists()
    )
    # A case with no known region (or no themes) is not one of the regions (themes) anybody chose.
    region = ~_chose_one_of("region", [case.region], who) if case.region else db.true()
    themes = ~_chose_one_of("theme", list(case.themes), who) if case.themes else db.true()
    rules = [
        ("paused", paused),
        ("regions", _chose("region", who) & region),
        ("themes", _chose("theme", who) & themes),
    ]
    if stage in NOT_LAUNCH_AND_LAST or (stage == "reminder" and not last_reminder):
        fewer = (
            db.select(Preferences.supporter_id)
            .where(Preferences.supporter_id == who, Preferences.frequency == "launch_and_last")
            .exists()
        )
        rules.append(("frequency", fewer))
    return rules


def is_last_reminder(mailing: Mailing) -> bool:
    """No other reminder of its drive is still to go after it: the one a `launch_and_last` supporter gets.
    Asked when it is sent, so a deadline extended since (new reminders planned) makes the new last one that."""
    if mailing.stage != "reminder":
        return False
    later = db.select(Mailing.id).where(
        Mailing.drive_id == mailing.drive_id,
        Mailing.stage == "reminder",
        Mailing.id != mailing.id,
        Mailing.status != "cancelled",
        (Mailing.send_at > mailing.send_at) | ((Mailing.send_at == mailing.send_at) & (Mailing.id > mailing.id)),
    )
    return not db.session.scalar(db.select(later.exists()))
