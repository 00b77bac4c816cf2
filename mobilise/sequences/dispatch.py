"""Launching a drive: its mailings planned as rows, and what is due now handed to a worker at once.

What is due later is found by the tick (`sending.tick`), which also re-makes any job that is lost.
"""

from ..cases.models import Case
from ..clock import utcnow
from ..extensions import db
from ..offices.models import Office
from . import mailing_state
from .models import Drive
from .service import launch


def start_drive(case: Case, office: Office, data: dict) -> Drive:
    """Launch, then queue at once whatever is due now (the launch email, unless send_at is later)."""
    now = utcnow()
    drive = launch(case, office, data, now=now)
    for mailing in drive.mailings:
        if mailing.status == mailing_state.MailingStatus.PLANNED and mailing.send_at <= now:
            mailing_state.queue_now(mailing.id, now)
    db.session.refresh(drive)
    return drive
