"""The tick: what the scheduler does each minute, safe to run twice or twice at once.

Each planned mailing moves planned → sending in one conditional UPDATE, so of two ticks
racing for it only one queues it; expired `not_acted` mailings are cancelled; mailings
whose jobs were lost are handed to a worker again.
"""
import logging
from datetime import datetime

from sqlalchemy.orm import joinedload

from ..cases.models import Case
from ..clock import deadline_end, utcnow
from ..extensions import db
from ..offices.models import Office
from ..sending.service import cancel_mailing, queue_mailing, resume_stalled
from .models import Drive, Mailing
from .service import due_mailings, launch, why_not_send

log = logging.getLogger(__name__)


def start_drive(case: Case, office: Office, data: dict) -> Drive:
    """Launch, then queue at once whatever is due now (the launch email, unless send_at is later)."""
    now = utcnow()
    drive = launch(case, office, data, now=now)
    for mailing in drive.mailings:
        if mailing.status == "planned" and mailing.send_at <= now:
            queue_mailing(mailing.id, now)
    db.session.refresh(drive)
    return drive


def tick(at: datetime | None = None) -> dict:
    at = at or utcnow()
    cancelled = queued = resumed = 0
    for mailing_id in due_mailings(at):
        mailing = db.session.get(Mailing, mailing_id)
        if reason := why_not_send(mailing, at):
            cancel_mailing(mailing, reason)
            cancelled += 1
        elif queue_mailing(mailing_id, at):
            queued += 1
    cancelled += _cancel_expired(at)
    resumed = resume_stalled()
    result = {"queued": queued, "cancelled": cancelled, "resumed": resumed}
    log.info("dispatch at %s: %s", at.isoformat(), result)
    return result


def _cancel_expired(at: datetime) -> int:
    """A not_acted mailing still waiting when its drive's deadline has passed is never sent."""
    # A deadline ends at the midnight after it, at most 14 hours ahead of UTC: so only drives whose
    # deadline is today's UTC date or earlier can have expired. The exact check is per office below.
    waiting = db.session.scalars(
        db.select(Mailing)
        .join(Drive)
        .where(Mailing.audience == "not_acted", Mailing.status.in_(("planned", "sending")), Drive.deadline <= at.date())
        .options(joinedload(Mailing.drive).joinedload(Drive.office))
    ).all()
    expired = [m for m in waiting if at >= deadline_end(m.drive.deadline, m.drive.office.timezone)]
    for mailing in expired:
        cancel_mailing(mailing, "the drive's deadline has passed")
    return len(expired)


