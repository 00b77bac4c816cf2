"""Consent you can prove: every change to whether a supporter may be emailed, kept as a history."""

from datetime import datetime

from ..clock import utcnow
from ..extensions import db
from ..networks import network_of
from .models import ConsentChange, Supporter

# The status each change leaves the supporter in. A request moves none: anyone may send one, so until it is
# confirmed the person stays as they were (a new supporter starts as `pending`).
STATUS_AFTER = {
    "given": "subscribed",
    "confirmed": "subscribed",
    "withdrawn": "unsubscribed",
    "bounced": "bounced",
    "complained": "complained",
}


def record_change(
    supporter: Supporter, change: str, source: str | None, *, address: str | None = None, at: datetime | None = None
) -> ConsentChange:
    """Note the change (with the requester's network, never the whole address) and move the status to match."""
    now = utcnow()
    row = ConsentChange(change=change, source=(source or "")[:200] or None, network=network_of(address), at=at or now)
    row.supporter_id = supporter.id
    db.session.add(row)
    status = STATUS_AFTER.get(change)
    if status and supporter.status != status:
        supporter.status = status
        supporter.status_changed_at = now
    return row


def history(supporter: Supporter) -> list[dict]:
    rows = db.session.scalars(
        db.select(ConsentChange)
        .where(ConsentChange.supporter_id == supporter.id)
        .order_by(ConsentChange.at, ConsentChange.id)
    )
    return [row.to_dict() for row in rows]
