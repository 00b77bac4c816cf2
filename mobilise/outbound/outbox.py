"""The outbox: an event is a row written in the transaction of the act it reports, so it is made once the act
commits, and never for an act that rolled back. Once the commit is through, the deliveries it made are enqueued;
whatever Redis lost, the tick enqueues again from the rows (`due_deliveries`).
"""

import logging
import secrets
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..cases.models import Case
from ..clock import iso, utcnow
from ..extensions import db
from ..jobs import enqueue
from ..offices.models import Office
from ..sequences.models import Drive, Mailing
from ..tokens import address_digest
from .delivery import TRY_SECONDS
from .models import EVENTS, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

KEEP = timedelta(days=30)  # the delivery log's length; the tick prunes older rows
PRUNE_BATCH = 1000
DUE_BATCH = 1000
MADE = "mobilise.outbound.made"  # the session's deliveries not yet committed, in Session.info
RECEIVERS = "mobilise.outbound.receivers"  # office id -> its enabled receivers, for one transaction


def emit(
    office_id: int,
    type: str,
    supporter_email: str | None,
    case: str | None = None,
    at: datetime | None = None,
    *,
    mailing_id: int | None = None,
) -> list[WebhookDelivery]:
    """One delivery of this event to each enabled receiver of the office that asked for its type, added to the
    caller's session: the caller's commit makes them, and enqueues them. `case` is the case's reference; or give
    the `mailing_id` and it is read only if a receiver wants the event.

    Called on the sending and tracking paths for every refusal, bounce, unsubscribe and action, most of them for
    offices with no receiver: the office's receivers are read once a transaction, and nothing else is read when
    there are none."""
    if type not in EVENTS:
        raise ValueError(f"unknown webhook event {type!r}")
    endpoints = [endpoint_id for endpoint_id, events in _receivers(office_id) if type in events]
    if not endpoints:
        return []
    if case is None and mailing_id is not None:
        case = _case_reference(mailing_id)
    code = db.session.scalar(db.select(Office.code).where(Office.id == office_id))
    now = utcnow()
    payload = {"type": type, "office": code}
    if case:
        payload["case"] = case
    payload |= {"supporter": {"email": supporter_email}, "at": iso(at or now)}
    digest = address_digest(supporter_email) if supporter_email else None
    made = []
    for endpoint_id in endpoints:
        delivery = WebhookDelivery(
            endpoint_id=endpoint_id,
            message_id=f"msg_{secrets.token_urlsafe(18)}",
            type=type,
            payload=payload,
            email_digest=digest,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        db.session.add(delivery)
        made.append(delivery)
    db.session.info.setdefault(MADE, []).extend(made)
    return made


def _receivers(office_id: int) -> list[tuple[int, list[str]]]:
    """(id, events) of the office's enabled receivers, read once a transaction (see `_forget_receivers`)."""
    known = db.session.info.setdefault(RECEIVERS, {})
    if office_id not in known:
        known[office_id] = db.session.execute(
            db.select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.office_id == office_id, WebhookEndpoint.enabled.is_(True)
            )
        ).all()
    return known[office_id]


def _case_reference(mailing_id: int) -> str | None:
    return db.session.scalar(
        db.select(Case.reference)
        .join(Drive, Drive.case_id == Case.id)
        .join(Mailing, Mailing.drive_id == Drive.id)
        .where(Mailing.id == mailing_id)
    )


@event.listens_for(Session, "after_transaction_end")
def _forget_receivers(session: Session, transaction) -> None:
    # The next transaction reads them afresh: a receiver registered or disabled since is seen then.
    session.info.pop(RECEIVERS, None)


def enqueue_delivery(delivery_id: int) -> None:
    # A short job timeout: a receiver must not hold a worker that the sending shares (see delivery.TRY_SECONDS).
    enqueue("workers.outbound.deliver", delivery_id, job_id=f"webhook-{delivery_id}", job_timeout=TRY_SECONDS)


@event.listens_for(Session, "after_commit")
def _enqueue_made(session: Session) -> None:
    """The deliveries this commit made, enqueued now (promptly, not at the next tick). A delivery added in a
    savepoint that rolled back is no longer in the session: it is not one of them. Redis away: the tick will."""
    made = session.info.pop(MADE, None)
    if not made:
        return
    ids = [state.identity[0] for state in map(inspect, made) if state.persistent and state.identity]
    try:
        for delivery_id in ids:
            enqueue_delivery(delivery_id)
    except RedisError:
        log.warning("%d webhook deliveries not enqueued (Redis did not answer): the tick will", len(ids))


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    made = session.info.get(MADE)
    if made:
        session.info[MADE] = [d for d in made if inspect(d).persistent or inspect(d).pending]


def due_deliveries(at: datetime) -> list[int]:
    """Pending deliveries whose time has come (a retry, or one whose job Redis lost), for the tick."""
    return list(
        db.session.scalars(
            db.select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= at)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(DUE_BATCH)
        )
    )


def hand_out(at: datetime) -> int:
    due = due_deliveries(at)
    for delivery_id in due:
        enqueue_delivery(delivery_id)
    return len(due)


def prune(at: datetime) -> int:
    """The log kept for KEEP: older rows go, a bounded batch per tick."""
    old = list(
        db.session.scalars(
            db.select(WebhookDelivery.id).where(WebhookDelivery.created_at < at - KEEP).limit(PRUNE_BATCH)
        )
    )
    if old:
        db.session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.id.in_(old)))
    db.session.commit()
    return len(old)


def forget_supporter(office_id: int, email: str) -> None:
    """Erasure: what was not delivered is not sent; what was keeps no address. The caller commits."""
    mine = (
        db.select(WebhookDelivery.id)
        .join(WebhookEndpoint)
        .where(WebhookEndpoint.office_id == office_id, WebhookDelivery.email_digest == address_digest(email))
    )
    ids = list(db.session.scalars(mine))
    if not ids:
        return
    db.session.execute(
        db.delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids), WebhookDelivery.status != "delivered")
    )
    for delivery in db.session.scalars(db.select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))):
        delivery.payload = {**delivery.payload, "supporter": {"email": None}}
        delivery.email_digest = None
