"""An office's reputation with the mailbox providers: what it sent, what bounced and who complained, per provider.

Counted from the rows over the last 7 and 30 days (UTC days, today included), per recipient-domain group and in
total, and each rate set against the threshold a provider or the guard rails hold it to:

- sent: emails the relay accepted (`deliveries.sent_at`), on the day it accepted them (a finished mailing's
  counted once and kept: sends.py);
- refused: emails the relay refused for good at RCPT TO (a hard bounce whose email was never accepted);
- hard bounces, complaints: each email once (its delivery), or each supporter once for a report that names
  no email, on the day first reported in the window; soft bounces are not counted;
- hard-bounce rate = hard bounces / (sent + refused): every address tried, since a refusal is a bounce too;
- complaint rate = complaints / sent: only an accepted email can be marked as spam (Gmail divides the same way).

Nothing sent: the rate is None, never a division by zero.
"""

from datetime import date, datetime, time, timedelta

from flask import current_app

from ..clock import utcnow
from ..extensions import db
from ..offices.models import Office
from ..sending.models import Delivery
from ..supporters.models import Bounce, Supporter
from .sends import sent_per_day

WINDOWS = (7, 30)
# The providers' own words: Gmail asks bulk senders for a complaint rate under 0.1%, and Gmail, Yahoo and
# Microsoft reject mail above 0.3%.
COMPLAINT_ASKED, COMPLAINT_REJECTED = 0.001, 0.003
# Recipient domains by the provider that runs them; the country forms (hotmail.fr, yahoo.co.uk) by prefix.
DOMAIN_GROUPS = {
    "gmail": ("gmail.com", "googlemail.com"),
    "microsoft": ("outlook.*", "hotmail.*", "live.*", "msn.com"),
    "yahoo": ("yahoo.*", "ymail.com", "rocketmail.com"),
}
GROUPS = (*DOMAIN_GROUPS, "other")


def domain_group(email):
    """The SQL expression naming an address's group: LIKE on the lower-cased address, the same on both databases.
    An erased supporter's address is gone, so their emails count under "other"."""
    whens = [
        (db.or_(*(email.like("%@" + domain.replace("*", "%")) for domain in domains)), name)
        for name, domains in DOMAIN_GROUPS.items()
    ]
    return db.case(*whens, else_="other")


def thresholds() -> dict:
    bounce = current_app.config["GUARD_BOUNCE_RATE"]
    return {
        "complaint_rate": {"near": COMPLAINT_ASKED, "over": COMPLAINT_REJECTED},
        "hard_bounce_rate": {"near": bounce / 2, "over": bounce},
        "min_sample": current_app.config["GUARD_MIN_SAMPLE"],
    }


def level(rate: float | None, limits: dict) -> str | None:
    """ok, near (at or past the lower line) or over (past the upper one); None when nothing was sent."""
    if rate is None:
        return None
    return "over" if rate > limits["over"] else "near" if rate >= limits["near"] else "ok"


def _rated(counts: dict, limits: dict) -> dict:
    tried = counts["sent"] + counts["refused"]
    bounce_rate = counts["hard_bounces"] / tried if tried else None
    complaint_rate = counts["complaints"] / counts["sent"] if counts["sent"] else None
    return {
        **counts,
        "hard_bounce_rate": bounce_rate,
        "hard_bounce_level": level(bounce_rate, limits["hard_bounce_rate"]),
        "complaint_rate": complaint_rate,
        "complaint_level": level(complaint_rate, limits["complaint_rate"]),
        # Below the guard rails' sample a handful of bounces swings the rate: the page says so.
        "small_sample": tried < limits["min_sample"],
    }


def _day(value) -> date:
    """SQL's date(): a date on PostgreSQL, its ISO text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _reports_per_day(office: Office, since: datetime) -> list[tuple[str, str, date, int, int]]:
    """(kind, group, day, reports, refused): each email's report once, or each supporter's without an email."""
    key = db.case((Bounce.delivery_id.is_not(None), Bounce.delivery_id), else_=-Bounce.supporter_id)
    never_accepted = db.case((db.and_(Bounce.delivery_id.is_not(None), Delivery.sent_at.is_(None)), 1), else_=0)
    first = (
        db.select(
            Bounce.kind.label("kind"),
            db.func.min(Bounce.created_at).label("at"),
            db.func.min(domain_group(Supporter.email)).label("grp"),
            db.func.max(never_accepted).label("refused"),
        )
        .select_from(Bounce)
        .join(Supporter, Supporter.id == Bounce.supporter_id)
        .outerjoin(Delivery, Delivery.id == Bounce.delivery_id)
        .where(Supporter.office_id == office.id, Bounce.created_at >= since, Bounce.kind.in_(("hard", "complaint")))
        .group_by(Bounce.kind, key)
        .subquery()
    )
    day = db.func.date(first.c.at)
    rows = db.session.execute(
        db.select(first.c.kind, first.c.grp, day, db.func.count(), db.func.sum(first.c.refused)).group_by(
            first.c.kind, first.c.grp, day
        )
    )
    return [(kind, name, _day(on), n, int(refused or 0)) for kind, name, on, n, refused in rows]


def reputation(office: Office, now: datetime | None = None) -> dict:
    """The office's counts and rates for the last 7 and 30 days, per domain group and in total, and per day."""
    today = (now or utcnow()).date()
    first_day = today - timedelta(days=max(WINDOWS) - 1)
    since = datetime.combine(first_day, time())
    days = {first_day + timedelta(days=n): _zero() for n in range(max(WINDOWS))}
    cells: dict[tuple[str, date], dict] = {}

    def cell(name: str, on: date) -> dict:
        return cells.setdefault((name, on), _zero())

    for name, on, n in sent_per_day(office, since, domain_group):
        if on in days:
            cell(name, on)["sent"] += n
    for kind, name, on, n, refused in _reports_per_day(office, since):
        if on in days:
            counts = cell(name, on)
            if kind == "complaint":
                counts["complaints"] += n
            else:
                counts["hard_bounces"] += n
                counts["refused"] += refused
    limits = thresholds()
    windows = {}
    for span in WINDOWS:
        start = today - timedelta(days=span - 1)
        groups = {name: _zero() for name in GROUPS}
        for (name, on), counts in cells.items():
            if on >= start:
                _add(groups[name], counts)
        total = _zero()
        for counts in groups.values():
            _add(total, counts)
        windows[str(span)] = {
            "total": _rated(total, limits),
            "domains": {name: _rated(counts, limits) for name, counts in groups.items()},
        }
    for (_domain, on), counts in cells.items():
        _add(days[on], counts)
    return {
        "office": office.code,
        "thresholds": limits,
        "windows": windows,
        "days": [
            {
                "date": on.isoformat(),
                "sent": c["sent"],
                "hard_bounces": c["hard_bounces"],
                "complaints": c["complaints"],
            }
            for on, c in days.items()
        ],
    }


def _zero() -> dict:
    return {"sent": 0, "refused": 0, "hard_bounces": 0, "complaints": 0}


def _add(into: dict, counts: dict) -> None:
    for name in into:
        into[name] += counts[name]
