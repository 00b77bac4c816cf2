"""What an office sent per UTC day and recipient-domain group, for its reputation: each finished mailing counted
once and kept (MailingSends), the mailings still going counted from their deliveries each time.

A mailing is done when nothing of it is left to send (`sent`), or an hour after it was cancelled (a batch already
holding its deliveries may still be finishing then). Its emails keep the group their address had when it was
counted: an address erased afterwards is not moved to "other", as it would be when counted again.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from ..clock import utcnow
from ..extensions import db
from ..offices.models import Office
from ..sending.models import Delivery
from ..sequences.models import Drive, Mailing
from ..sql import upsert
from ..supporters.models import Supporter
from .models import MailingSends

CANCELLED_SETTLES = timedelta(hours=1)


def sent_per_day(office: Office, since: datetime, domain_group: Callable) -> list[tuple[str, date, int]]:
    """(group, day, emails the relay accepted) for the office's emails sent since `since`."""
    mailings = db.session.execute(
        db.select(Mailing.id, Mailing.status, Mailing.finished_at)
        .join(Drive, Drive.id == Mailing.drive_id)
        .where(Drive.office_id == office.id, db.or_(Mailing.finished_at.is_(None), Mailing.finished_at >= since))
    ).all()
    settled_before = utcnow() - CANCELLED_SETTLES
    done = {
        mailing_id
        for mailing_id, status, finished in mailings
        if status == "sent" or (status == "cancelled" and finished is not None and finished <= settled_before)
    }
    going = [mailing_id for mailing_id, *_ in mailings if mailing_id not in done]
    kept: dict[int, dict] = {
        mailing_id: days
        for mailing_id, days in db.session.execute(
            db.select(MailingSends.mailing_id, MailingSends.days).where(MailingSends.mailing_id.in_(done))
        )
    }
    for mailing_id in sorted(done - kept.keys()):
        kept[mailing_id] = _count_once(mailing_id, domain_group)
    first_day = since.date()
    found = [
        (group, day, n)
        for days in kept.values()
        for on, groups in days.items()
        if (day := date.fromisoformat(on)) >= first_day
        for group, n in groups.items()
    ]
    if going:
        found += [(group, day, n) for group, day, n in _count(going, since, domain_group)]
    return found


def _count(mailing_ids: list[int], since: datetime | None, domain_group: Callable) -> list[tuple[str, date, int]]:
    # Grouped over a subquery's columns: a GROUP BY repeating the CASE would bind its patterns anew, and
    # PostgreSQL would not see the select list's expression in it.
    sent = (
        db.select(domain_group(Supporter.email).label("grp"), db.func.date(Delivery.sent_at).label("day"))
        .select_from(Delivery)
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(
            Delivery.mailing_id.in_(mailing_ids),
            Delivery.sent_at >= since if since is not None else Delivery.sent_at.is_not(None),
        )
        .subquery()
    )
    rows = db.session.execute(db.select(sent.c.grp, sent.c.day, db.func.count()).group_by(sent.c.grp, sent.c.day))
    return [(group, on if isinstance(on, date) else date.fromisoformat(on), n) for group, on, n in rows]


def _count_once(mailing_id: int, domain_group: Callable) -> dict:
    """The mailing's sends, counted and kept; a page counting it at the same moment keeps the same numbers."""
    days: dict[str, dict[str, int]] = {}
    for group, day, n in _count([mailing_id], None, domain_group):
        days.setdefault(day.isoformat(), {})[group] = n
    db.session.execute(
        upsert(MailingSends).values(mailing_id=mailing_id, days=days, counted_at=utcnow()).on_conflict_do_nothing()
    )
    db.session.commit()  # a cache of what cannot change any more: written alone, whatever the page does next
    return days
