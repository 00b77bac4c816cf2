"""A delivery's states, and the only code that writes them.

    queued ──claim──▶ sending ──sent──▶ sent ──(a bounce reported later)──▶ bounced
      ▲  ▲              │ │ │
      │  └──release─────┘ │ └──settle──▶ failed | skipped
      │     (untried, or  │
      │    its claim died)└──defer──▶ deferred ──(its retry_at: claimed again)──▶ sending
      └───────────────────────────────────────── or failed once the retries are spent
    queued | deferred ──skip_remaining──▶ skipped   (its mailing was cancelled)

The moment the relay accepts a message, its delivery is journalled in the database (`Journal`: one row in
`sent_marks`), and the journal is applied to the deliveries in bulk (`apply_sent`: sending → sent, counted
once). So the rows are the whole truth: a worker killed at any instant leaves at most the message in flight
unrecorded, and whoever recovers its claim applies its journal.
Every transition is a conditional UPDATE that changes a row only from the state it expects.
"""

import enum
from datetime import datetime, timedelta

from ..extensions import db
from ..sql import one_of


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"
    BOUNCED = "bounced"


UNFINISHED = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


def _delivery():
    from .models import Delivery

    return Delivery


def due(now: datetime):
    """The condition of a delivery that may be claimed at `now`."""
    Delivery = _delivery()
    return db.or_(
        Delivery.status == DeliveryStatus.QUEUED,
        db.and_(Delivery.status == DeliveryStatus.DEFERRED, Delivery.retry_at <= now),
    )


def claim(mailing_id: int, first_id: int, last_id: int, claim_id: str, now: datetime) -> list[int]:
    """queued, or deferred and due → sending under `claim_id`, for the range's deliveries. Rows another worker is
    claiming at this moment are skipped rather than waited for (SKIP LOCKED on PostgreSQL; SQLite has one writer)."""
    Delivery = _delivery()
    free = (
        db.select(Delivery.id)
        .where(Delivery.mailing_id == mailing_id, Delivery.id.between(first_id, last_id), due(now))
        .with_for_update(skip_locked=True)
    )
    claimed = db.session.scalars(
        db.update(Delivery)
        .where(Delivery.id.in_(free), due(now))
        .values(status=DeliveryStatus.SENDING, claim=claim_id)
        .returning(Delivery.id)
    ).all()
    db.session.commit()
    return sorted(claimed)


def settle(ids: list[int], claim_id: str, status: DeliveryStatus, why: str | None) -> list[tuple[int, int]]:
    """sending → failed or skipped. Returns (delivery id, supporter id) of those that changed."""
    Delivery = _delivery()
    return _update(ids, claim_id, {"status": status, "error": why, "claim": None}, Delivery.id, Delivery.supporter_id)


def defer(ids: list[int], claim_id: str, why: str, now: datetime, backoff: tuple[float, ...]) -> list[int]:
    """sending → deferred until the next retry, or failed once the retries are spent. Returns the failed ones'
    supporters."""
    Delivery = _delivery()
    retry_at = db.case(
        *((Delivery.attempts == n, now + timedelta(seconds=delay)) for n, delay in enumerate(backoff)), else_=None
    )
    spent = Delivery.attempts >= len(backoff)
    changed = _update(
        ids,
        claim_id,
        {
            "status": db.case((spent, DeliveryStatus.FAILED.value), else_=DeliveryStatus.DEFERRED.value),
            "error": db.case((spent, f"deferred {len(backoff) + 1} times; the last: {why}"), else_=f"deferred: {why}"),
            "retry_at": retry_at,
            "attempts": Delivery.attempts + 1,
            "claim": None,
        },
        Delivery.status,
        Delivery.supporter_id,
    )
    return [supporter_id for status, supporter_id in changed if status == DeliveryStatus.FAILED]


def release(ids: list[int], claim_id: str) -> None:
    """sending → queued: what this claim has not tried goes back."""
    if ids:
        _update(ids, claim_id, {"status": DeliveryStatus.QUEUED, "claim": None})


def apply_sent(claim_id: str, now: datetime) -> list[int]:
    """sending → sent for what the claim's journal holds, and the journal emptied. Returns the supporters of the
    deliveries that changed (for the counts); in the caller's transaction."""
    from .models import sent_marks

    Delivery = _delivery()
    # The journal is taken first and the deliveries then updated by their ids (the primary key), rather than in one
    # UPDATE … WHERE id IN (the journal's): the journal has no index and no statistics, so PostgreSQL chose to
    # scan it once for each delivery of the claim, a cost that grew with the square of a flush.
    marked = list(
        db.session.scalars(
            db.delete(sent_marks).where(sent_marks.c.claim == claim_id).returning(sent_marks.c.delivery_id)
        )
    )
    if not marked:
        return []
    return list(
        db.session.scalars(
            db.update(Delivery)
            .where(one_of(Delivery.id, marked), Delivery.claim == claim_id, Delivery.status == DeliveryStatus.SENDING)
            .values(status=DeliveryStatus.SENT, sent_at=now, claim=None)
            .returning(Delivery.supporter_id)
            .execution_options(synchronize_session=False)
        )
    )


def requeue(claim_id: str) -> int:
    """sending → queued for every delivery a dead claim held and had not sent. Returns how many."""
    Delivery = _delivery()
    return db.session.execute(
        db.update(Delivery)
        .where(Delivery.claim == claim_id, Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.QUEUED, claim=None)
    ).rowcount


def skip_remaining(mailing_id: int, reason: str) -> int:
    """queued or deferred → skipped, for a mailing that will not go on. Returns how many."""
    Delivery = _delivery()
    return db.session.execute(
        db.update(Delivery)
        .where(Delivery.mailing_id == mailing_id, Delivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED)))
        .values(status=DeliveryStatus.SKIPPED, error=f"mailing cancelled: {reason}")
    ).rowcount


def bounce(delivery_id: int) -> bool:
    """sent → bounced: the relay reported it later."""
    Delivery = _delivery()
    return bool(
        db.session.execute(
            db.update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.SENT)
            .values(status=DeliveryStatus.BOUNCED)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _update(ids: list[int], claim_id: str, values: dict, *returning) -> list[tuple]:
    Delivery = _delivery()
    statement = (
        db.update(Delivery)
        .where(one_of(Delivery.id, ids), Delivery.claim == claim_id, Delivery.status == DeliveryStatus.SENDING)
        .values(**values)
    )
    if not returning:
        db.session.execute(statement)
        return []
    return db.session.execute(statement.returning(*returning)).all()


class Journal:
    """The record of each email the relay accepted, written the moment it accepts it: one row in `sent_marks`.

    One statement per email, so on a connection of its own in autocommit, through the driver directly, and as
    cheap a write as there is (an append to a table without index). It is written only while the claim still
    exists, so a batch whose claim was recovered behind its back finds out at its next email. On PostgreSQL
    the statement is written to the server and its answer read only at the next one (libpq's asynchronous
    calls), so the round trip to the database overlaps the relay's instead of following it. That keeps the
    promise: once written, the statement reaches the server and commits even if this process is killed the
    next instant; only what was never written (the message in flight) can go twice. Its commits do not wait
    for the disk (synchronous_commit off): only a crash of the database server itself could forget the last
    fraction of a second, whose emails would then go again."""

    MARK = "INSERT INTO sent_marks (claim, delivery_id) SELECT {0}, {1} WHERE EXISTS (SELECT 1 FROM send_claims WHERE id = {0})"

    def __init__(self, claim_id: str):
        self.claim_id = claim_id
        self.connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.driver = self.connection.connection.driver_connection
        self.postgres = self.connection.dialect.name == "postgresql"
        self.unread = 0  # statements written whose answers are not read yet (PostgreSQL)
        self.missed = False  # a mark found the claim gone: it was recovered meanwhile
        if self.postgres:
            self.driver.execute("SET synchronous_commit TO off")
            self._pg = self.driver.pgconn
            self._claim = claim_id.encode()
            self._name = b"mobilise_sent_" + self._claim  # its own name: psycopg keeps its own prepared statements
            result = self._pg.prepare(self._name, self.MARK.format("$1::varchar", "$2::integer").encode())
            if result.error_message:
                raise RuntimeError(result.error_message.decode(errors="replace"))
        else:
            self._mark = self.MARK.format("?1", "?2")
        mark = "%s" if self.postgres else "?"
        self._renew = f"UPDATE send_claims SET lease_until = {mark} WHERE id = {mark}"

    def sent(self, delivery_id: int) -> bool:
        """Journal it. False when a mark (this one, or on PostgreSQL the one before) found the claim gone."""
        if not self.postgres:
            if self.driver.execute(self._mark, (self.claim_id, delivery_id)).rowcount != 1:
                self.missed = True
            return not self.missed
        self.read()
        self._pg.send_query_prepared(self._name, [self._claim, str(delivery_id).encode()])
        self.unread += 1
        return not self.missed

    def read(self) -> None:
        """Read the answers to what was written (on PostgreSQL); raises what the server said went wrong."""
        while self.unread:
            result, error = None, None
            while (answer := self._pg.get_result()) is not None:
                result = answer
                if answer.error_message:
                    error = answer.error_message.decode(errors="replace")
            self.unread -= 1
            if error:
                raise RuntimeError(f"journalling a sent email failed: {error}")
            if result is not None and result.command_tuples != 1:
                self.missed = True

    def renew(self, lease_until: datetime) -> bool:
        self.read()
        moment = lease_until if self.postgres else lease_until.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's format
        return self.driver.execute(self._renew, (moment, self.claim_id)).rowcount == 1 and not self.missed

    def close(self) -> None:
        if self.connection.closed:
            return
        if self.postgres and not self.driver.closed:
            self.read()
            self.driver.execute(f"DEALLOCATE {self._name.decode()}")
            self.driver.execute("SET synchronous_commit TO DEFAULT")  # the pooled connection serves others next
        self.connection.close()
