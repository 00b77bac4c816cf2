"""Claims: how a batch holds its deliveries while it sends them, and how a dead batch's are recovered.

A batch claims its queued deliveries (queued → sending, naming the claim) before it sends, and writes
their outcomes in bulk after. Between the two, the truth of what the relay accepted lives in the
claim's journal in Redis: one entry per accepted message, written the moment the relay says 250, in the
same call that renews the claim's lease. A worker killed at any instant leaves a claim whose lease
lapses; recovery then marks sent what the journal holds and queues the rest again. So the only
message that can go twice is the one in flight at the kill: accepted by the relay, not yet journalled.

A batch that outlives its lease (a stalled relay, a paused process) finds out at its next message,
whose journal call fails, and stops: recovery has given its deliveries back.
"""
import secrets
from collections.abc import Iterable

from flask import current_app
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

from ..clock import utcnow
from ..counts.service import count_outcomes
from ..extensions import db
from ..jobs import redis_connection, redis_script
from .models import Delivery

JOURNAL_TTL = 7 * 24 * 3600  # a dead claim's journal waits this long for recovery

# Journal one accepted delivery and renew the lease, only while the lease is still held. The journal's
# expiry is set here: it cannot be set on a key before its first entry.
_JOURNAL = f"""
if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], {JOURNAL_TTL})
return 1
"""


class LeaseLost(Exception):
    """The claim's lease lapsed and its deliveries may already be someone else's: stop sending."""


class Claim:
    def __init__(self, mailing_id: int):
        self.id, self.mailing_id = secrets.token_hex(8), mailing_id
        self.redis = redis_connection()
        self.lease_ms = int(current_app.config["SEND_LEASE_SECONDS"] * 1000)
        self.lease_key, self.journal_key = lease_key(self.id), journal_key(self.id)
        self.redis.set(self.lease_key, 1, px=self.lease_ms)
        self._journal = redis_script(_JOURNAL)
        self._connection = None

    def take(self, first_id: int, last_id: int) -> list[int]:
        """queued → sending for the range's deliveries that are due. Rows another worker is claiming at this
        moment are skipped rather than waited for (SKIP LOCKED on PostgreSQL; SQLite has one writer at a time)."""
        now = utcnow()
        free = (
            db.select(Delivery.id)
            .where(Delivery.mailing_id == self.mailing_id, Delivery.status == "queued")
            .where(Delivery.id.between(first_id, last_id))
            .where(db.or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now))
            .with_for_update(skip_locked=True)
        )
        claimed = db.session.scalars(
            db.update(Delivery)
            .where(Delivery.id.in_(free), Delivery.status == "queued")
            .values(status="sending", claim=self.id)
            .returning(Delivery.id)
        ).all()
        db.session.commit()
        if claimed:
            mark_alive(self.mailing_id)
        return sorted(claimed)

    def accepted(self, delivery_id: int) -> None:
        """The relay took this delivery's message: journal it before anything else happens.

        One call per email sent, so on a connection of its own, through redis-py's connection-level
        send_command/read_response: the client's pool and retry wrapper cost twice the round trip."""
        if self._connection is None:
            self._connection = self.redis.connection_pool.get_connection()
        try:
            self._connection.send_command(
                "EVALSHA", self._journal.sha, 2, self.lease_key, self.journal_key, delivery_id, self.lease_ms
            )
            held = self._connection.read_response()
        except (ConnectionError, TimeoutError, ResponseError):
            # A dropped connection, or a script Redis does not hold yet: once more the ordinary way, which loads it.
            self._connection.disconnect()
            held = self._journal(keys=[self.lease_key, self.journal_key], args=[delivery_id, self.lease_ms])
        if not held:
            raise LeaseLost(self.id)

    def renew(self) -> None:
        """Show life between messages (a long wait for the relay's limits, many skipped)."""
        if not self.redis.pexpire(self.lease_key, self.lease_ms):
            raise LeaseLost(self.id)
        mark_alive(self.mailing_id)

    def release(self, delivery_ids: Iterable[int]) -> None:
        """Give back deliveries this claim has not tried."""
        ids = list(delivery_ids)
        if ids:
            db.session.execute(
                db.update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.claim == self.id, Delivery.status == "sending")
                .values(status="queued", claim=None)
            )
        db.session.commit()

    def end(self) -> None:
        """Every outcome is written: the journal has served."""
        self.redis.delete(self.lease_key, self.journal_key)
        if self._connection is not None:
            self.redis.connection_pool.release(self._connection)
            self._connection = None


def mark_alive(mailing_id: int) -> None:
    """The mailing is being worked on: the minute tick leaves it alone until this lapses."""
    seconds = 2 * current_app.config["SEND_LEASE_SECONDS"]
    redis_connection().set(alive_key(mailing_id), 1, px=int(seconds * 1000))


def is_alive(mailing_id: int) -> bool:
    return bool(redis_connection().exists(alive_key(mailing_id)))


def alive_key(mailing_id: int) -> str:
    return f"mobilise:mailing:{mailing_id}:alive"


def lease_key(claim_id: str) -> str:
    return f"mobilise:claim:{claim_id}"


def journal_key(claim_id: str) -> str:
    return f"mobilise:claim:{claim_id}:sent"


def recover(mailing_id: int, drive_id: int, first_id: int | None = None, last_id: int | None = None) -> int:
    """Settle the deliveries of dead claims (in the range, or the whole mailing): what their journal holds
    is sent, the rest queued again. Returns how many were queued again. Safe to run twice at once: each
    row changes only while still `sending` under that claim, and only what changed is counted."""
    held = db.select(Delivery.claim).where(Delivery.mailing_id == mailing_id, Delivery.status == "sending").distinct()
    if first_id is not None:
        held = held.where(Delivery.id.between(first_id, last_id))
    claims = db.session.scalars(held).all()
    redis = redis_connection()
    requeued = 0
    for claim_id in claims:
        if claim_id is not None and redis.exists(lease_key(claim_id)):
            continue  # alive
        in_claim = (Delivery.mailing_id == mailing_id, Delivery.status == "sending", Delivery.claim == claim_id)
        journal = [int(i) for i in redis.lrange(journal_key(claim_id), 0, -1)] if claim_id else []
        if journal:
            sent = db.session.execute(
                db.update(Delivery)
                .where(*in_claim, Delivery.id.in_(journal))
                .values(status="sent", sent_at=utcnow(), claim=None)
                .returning(Delivery.supporter_id)
            ).scalars().all()
            count_outcomes(mailing_id, drive_id, [("sent", supporter_id) for supporter_id in sent])
        requeued += db.session.execute(
            db.update(Delivery).where(*in_claim).values(status="queued", claim=None)
        ).rowcount
        db.session.commit()
        if claim_id:
            redis.delete(journal_key(claim_id))
    return requeued
