"""A mailing stops itself before the mailbox providers stop the office: past a minimum sample, complaints above the
providers' limit or hard bounces above a share of what it sent pause it for staff, saying why.

Counted since staff last resumed it after the rails paused it (its `guard_baseline`), so a resumed mailing goes
on until what comes after passes a rail again; reports still arriving about the emails before the pause do not
count against those sent after it. The denominator is the emails tried: those the relay accepted and those it
refused for good.
"""

from flask import current_app

from ..counts.models import MailingCounts
from ..extensions import db
from ..sequences import mailing_state
from ..sequences.mailing_state import MailingStatus
from ..sequences.models import Mailing
from ..supporters.models import Bounce


def counted(mailing_id: int) -> dict:
    """What the rails count for one mailing: emails tried, hard bounces, complaints (one per email)."""
    counts = db.session.get(MailingCounts, mailing_id)
    attempted = (counts.sent + counts.failed) if counts is not None else 0
    by_kind = dict(
        db.session.execute(
            db.select(Bounce.kind, db.func.count(db.distinct(Bounce.delivery_id)))
            .where(Bounce.mailing_id == mailing_id, Bounce.kind.in_(("hard", "complaint")))
            .group_by(Bounce.kind)
        ).all()
    )
    return {"attempted": attempted, "hard": by_kind.get("hard", 0), "complaints": by_kind.get("complaint", 0)}


def check(mailing_id: int) -> str | None:
    """Pause the mailing if it passed a rail (within the caller's transaction). Returns the reason it paused."""
    status = db.session.scalar(db.select(Mailing.status).where(Mailing.id == mailing_id))
    if status != MailingStatus.SENDING:
        return None
    config = current_app.config
    now = counted(mailing_id)
    base = db.session.scalar(db.select(Mailing.guard_baseline).where(Mailing.id == mailing_id)) or {}
    tried = now["attempted"] - base.get("attempted", 0)
    if tried < config["GUARD_MIN_SAMPLE"]:
        return None
    complaints = now["complaints"] - base.get("complaints", 0)
    hard = now["hard"] - base.get("hard", 0)
    if complaints / tried > config["GUARD_COMPLAINT_RATE"]:
        reason = (
            f"spam complaints reached {_percent(complaints / tried)} of {tried:,} emails ({complaints:,} complaints), "
            f"past the {_percent(config['GUARD_COMPLAINT_RATE'])} at which mailbox providers start refusing the office's "
            "mail; check where these addresses came from, then resume the mailing"
        )
    elif hard / tried > config["GUARD_BOUNCE_RATE"]:
        reason = (
            f"hard bounces reached {_percent(hard / tried)} of {tried:,} emails ({hard:,} addresses that do not exist), "
            f"past the {_percent(config['GUARD_BOUNCE_RATE'])} allowed; clean the list (an old or bought one?), "
            "then resume the mailing"
        )
    else:
        return None
    return reason if mailing_state.guard_pause(mailing_id, reason, now) else None


def _percent(share: float) -> str:
    return f"{share * 100:.2f}".rstrip("0").rstrip(".") + "%"
