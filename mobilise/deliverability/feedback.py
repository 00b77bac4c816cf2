"""One way in for what comes back: a provider's webhook event or an inbound bounce, complaint or unsubscribe is a
`Report`, and `record` applies it once under the suppression rules of `sending.bounces` and `tracking`.

A report names its email, best first, by what the service attached to it (the delivery id in a provider's
custom arguments or metadata, the VERP token of a bounce address), by our Message-ID, or else as the latest
email to that address in the last 30 days (see `_named` for whom it then concerns). A report that names no email
of ours applies to that address in every office, as `POST /api/v1/events/bounces` does by email, so that a
complaint or an unsubscribe is never lost because the email it answers is older than the window.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db
from ..outbound.outbox import emit
from ..sending.bounces import delivery_by_message_id, record_bounce, supporters_with
from ..sending.delivery_state import DeliveryStatus
from ..sending.models import Delivery
from ..supporters.consent import record_change
from ..supporters.models import Supporter
from ..tracking.service import unsubscribe_delivery
from .models import FeedbackEvent

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=30)  # how far back "the latest email to that address" looks
# How long a recorded event's id is kept: far past any provider's retries (SendGrid's are the longest, 72 hours).
REMEMBER = timedelta(days=45)
Kind = Literal["hard", "soft", "complaint", "unsubscribe"]
SOURCES = ("ses", "sendgrid", "mailgun", "postmark", "inbound")


@dataclass(frozen=True)
class Report:
    source: str  # one of SOURCES
    kind: Kind
    event_id: str  # the sender's own id for this event: the same id from the same source is recorded once
    delivery_id: int | None = None  # what the service attached to the email for that provider
    message_id: str | None = None  # our Message-ID as the provider echoes it
    email: str | None = None  # the recipient's address
    detail: str | None = None  # the provider's diagnostic: staff read it on the supporter; never logged


def record(report: Report) -> str:
    """Apply the report once and commit. Returns what happened, for the webhook's answer and the logs (no
    address in it): "recorded", "duplicate", or "unknown" when it names no email and no supporter of ours."""
    # Read before the write below: see tracking.service.record_action on SQLite.
    delivery, others = _named(report)
    try:
        with db.session.begin_nested():
            # The write first (SQLite), and the table kept small: what no provider will send again is forgotten.
            db.session.execute(db.delete(FeedbackEvent).where(FeedbackEvent.created_at < utcnow() - REMEMBER))
            db.session.add(FeedbackEvent(source=report.source, key=_key(report.event_id), kind=report.kind))
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    if delivery is None and not others:
        db.session.commit()  # kept, so a retry of an event about a stranger is not looked up again and again
        log.info("%s %s report names no email or supporter of this service", report.source, report.kind)
        return "unknown"
    if report.kind == "unsubscribe":
        if delivery is not None:
            unsubscribe_delivery(delivery, f"{report.source}: unsubscribe")
        for supporter in others:
            if supporter.status in ("subscribed", "pending"):
                record_change(supporter, "withdrawn", f"{report.source}: unsubscribe")
                emit(supporter.office_id, "supporter.unsubscribed", supporter.email)
    else:
        if delivery is not None:
            record_bounce(report.kind, [delivery.supporter], delivery, report.detail, source=report.source)
        if others:
            record_bounce(report.kind, others, None, report.detail, source=report.source)
    db.session.commit()
    log.info(
        "%s %s report recorded for %s",
        report.source,
        report.kind,
        f"delivery {delivery.id}" if delivery is not None else f"{len(others)} supporter(s) by address",
    )
    return "recorded"


def _named(report: Report) -> tuple[Delivery | None, list[Supporter]]:
    """The email the report is about, and the other supporters it concerns. An email named by what we attached
    or by our Message-ID concerns its supporter alone. By address, the latest email to it in the last 30 days is
    the one counted, and the report concerns that address in every office that emailed it in that time: an
    address alone cannot tell whose email was marked as spam, and applying it to the wrong office's supporter
    would keep the complainer on the other list. With no email to it in that time, that address in every office."""
    if report.delivery_id is not None and (delivery := db.session.get(Delivery, report.delivery_id)) is not None:
        return delivery, []
    if report.message_id and (delivery := delivery_by_message_id(report.message_id)) is not None:
        return delivery, []
    if not report.email:
        return None, []
    email = report.email.strip().lower()
    recent = db.session.scalars(
        db.select(Delivery)
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .where(
            Supporter.email == email,
            Delivery.sent_at >= utcnow() - LOOKBACK,
            Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.BOUNCED)),
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
    ).all()
    if not recent:
        return None, supporters_with(email)
    latest = recent[0]
    others = {d.supporter_id: d.supporter for d in recent if d.supporter_id != latest.supporter_id}
    return latest, list(others.values())


def _key(event_id: str) -> str:
    return hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
