"""Claims: how a batch holds its deliveries while it sends them, and how a dead batch's are recovered.

A batch opens a claim (a `send_claims` row with a lease) and moves its due deliveries to `sending` under it.
Each delivery the relay accepts is journalled at once (`delivery_state.Journal`); the journal and the other
outcomes are applied to the deliveries in bulk. The batch renews its lease every few seconds. A worker killed at any instant leaves a
claim whose lease runs out: the tick then counts what it sent and queues the rest again
(`recover_expired`). So the only message that can go twice is the one in flight at the kill: accepted
by the relay, not yet marked. Everything here is in the database: losing Redis loses no claim.

A batch that outlives its lease (a stalled relay, a paused process) finds out at its next message or
renewal, whose update changes nothing, and stops: recovery has given its deliveries back.
"""

import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app

from ..clock import utcnow
from ..counts.service import count_outcomes
from ..extensions import db
from . import delivery_state
from .models import SendClaim, sent_marks

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The claim's lease lapsed and its deliveries may already be someone else's: stop sending."""


def lease() -> timedelta:
    return timedelta(seconds=current_app.config["SEND_LEASE_SECONDS"])


class Claim:
    def __init__(self, mailing_id: int, drive_id: int):
        self.id, self.mailing_id, self.drive_id = secrets.token_hex(8), mailing_id, drive_id
        db.session.add(SendClaim(id=self.id, mailing_id=mailing_id, lease_until=utcnow() + lease()))
        db.session.commit()
        self.journal = delivery_state.Journal(self.id)

    def take(self, first_id: int, last_id: int) -> list[int]:
        return delivery_state.claim(self.mailing_id, first_id, last_id, self.id, utcnow())

    def accepted(self, delivery_id: int) -> None:
        """The relay took this delivery's message: journal it before anything else happens."""
        if not self.journal.sent(delivery_id):
            raise LeaseLost(self.id)

    def renew(self) -> None:
        if not self.journal.renew(utcnow() + lease()):
            raise LeaseLost(self.id)

    def count_sent(self) -> None:
        """Count what this claim has sent since the last time (in the caller's transaction)."""
        self.journal.read()  # every mark written has reached the database
        sent = delivery_state.apply_sent(self.id, utcnow())
        count_outcomes(self.mailing_id, self.drive_id, [("sent", s) for s in sent])

    def end(self, untried: list[int]) -> None:
        """Give back what was not tried, count what was sent, and let the claim go."""
        delivery_state.release(untried, self.id)
        self.count_sent()
        db.session.execute(db.delete(SendClaim).where(SendClaim.id == self.id))
        db.session.commit()
        self.journal.close()


def recover_expired(now: datetime, mailing_id: int | None = None) -> int:
    """Settle every claim whose lease has run out (of one mailing, or all): what it sent is counted, the rest
    queued again. Returns how many deliveries were queued again. Safe to run twice at once: the claim's row
    is deleted under the same condition first, and only the process that deleted it recovers it."""
    from ..sequences.models import Mailing

    query = (
        db.select(SendClaim.id, SendClaim.mailing_id, Mailing.drive_id).join(Mailing).where(SendClaim.lease_until < now)
    )
    if mailing_id is not None:
        query = query.where(SendClaim.mailing_id == mailing_id)
    requeued = 0
    for claim_id, claim_mailing, drive_id in db.session.execute(query).all():
        gone = db.session.execute(
            db.delete(SendClaim).where(SendClaim.id == claim_id, SendClaim.lease_until < now)
        ).rowcount
        if gone:
            sent = delivery_state.apply_sent(claim_id, now)
            count_outcomes(claim_mailing, drive_id, [("sent", s) for s in sent])
            back = delivery_state.requeue(claim_id)
            requeued += back
            log.warning(
                "mailing %s: claim %s expired; %d sent counted, %d queued again",
                claim_mailing,
                claim_id,
                len(sent),
                back,
            )
        db.session.commit()
    if mailing_id is None:  # the tick's sweep, not each batch's
        # A mark written as its claim was being recovered (the one email in flight): its delivery went back to
        # the queue, and the mark has nothing left to say.
        db.session.execute(db.delete(sent_marks).where(sent_marks.c.claim.not_in(db.select(SendClaim.id))))
        db.session.commit()
    return requeued
