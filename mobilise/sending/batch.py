"""One batch of a mailing: its deliveries claimed, sent over one SMTP session within the relay's limits,
their outcomes written.

The relay's answers, per message: 250 is sent (marked at once, see `claims`); a 5xx to the address
is a hard bounce and the delivery fails; a 5xx to the message fails it; a 4xx defers that one delivery
with backoff. A message that cannot be composed or encoded fails alone, with its reason. A relay that
cannot be reached, or says 421, is down: the batch gives back what it has not tried and the mailing
pauses until the relay's next try. Too many refusals pause the mailing for staff.
"""

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from flask_mail import BadHeaderError

from ..cases.models import Action
from ..clock import utcnow
from ..counts.service import count_outcomes
from ..extensions import db
from ..sequences.mailing_state import MailingStatus
from ..sequences.models import Mailing
from ..sql import one_of
from ..supporters.models import Supporter
from . import delivery_state
from .bounces import record_refusals
from .claims import Claim, LeaseLost
from .composer import Composer
from .delivery_state import DeliveryStatus
from .message import BROKEN, Unsendable
from .messenger import RelayDown, open_session
from .models import Delivery
from .relays import Relay

log = logging.getLogger(__name__)

FLUSH_EVERY = 500  # outcomes written per transaction (each sent one is marked the moment it is sent)
BEAT = 2.0  # seconds between renewals of the claim's lease, at most (a third of the lease when that is shorter)
# What composing or encoding one message can raise: a fault of that message alone (its text, its address).
UNSENDABLE = (Unsendable, BadHeaderError, *BROKEN)


class Paused(Exception):
    def __init__(self, reason: str, until: datetime | None):
        super().__init__(reason)
        self.reason, self.until = reason, until


class Halted(Exception):
    """The mailing stopped sending meanwhile, elsewhere (its guard rails on a report, staff, the tick): the batch
    gives back what it has not tried, and changes nothing about the mailing itself."""


class Batch:
    def __init__(self, mailing: Mailing, relay: Relay, claim: Claim, delivery_ids: list[int]):
        self.mailing_id, self.drive_id = mailing.id, mailing.drive_id
        self.relay, self.claim, self.delivery_ids = relay, claim, delivery_ids
        self.composer = Composer(mailing)
        self.not_acted = mailing.audience == "not_acted"
        self.case_id = mailing.drive.case_id
        self.outcomes = Outcomes(self.mailing_id, self.drive_id, claim)
        self.permits, self.slot = 0, 0.0
        self.tried = self.errors = 0
        self.halted: str | None = None  # why the mailing stopped sending meanwhile, once a progress write saw it
        self.beat_every = min(BEAT, current_app.config["SEND_LEASE_SECONDS"] / 3)
        self.beat = time.monotonic() + self.beat_every

    def send(self) -> dict:
        """Sends the claimed deliveries; raises Paused when the mailing must wait (what is untried is given back)."""
        rows = self._rows()
        acted = self._acted({row[1] for row in rows})
        done: set[int] = set()
        sendable = []
        for delivery_id, supporter_id, email, first_name, language, status in rows:
            if status != "subscribed":
                self._skip(delivery_id, supporter_id, f"supporter is {status}", done)
            elif supporter_id in acted:
                self._skip(delivery_id, supporter_id, "supporter has acted", done)
            else:
                sendable.append((delivery_id, supporter_id, email, first_name, language))
        try:
            with open_session(self.relay) as session:
                upcoming = Upcoming(self._compose, session, sendable)
                for n, (delivery_id, supporter_id, *_) in enumerate(sendable):
                    if self.halted:
                        raise Halted(self.halted)
                    try:
                        message = upcoming.take(n)
                    except UNSENDABLE as error:
                        self._fail_alone(delivery_id, supporter_id, error, done)
                        continue
                    self._pace(len(sendable) - n)
                    try:
                        result = session.deliver(
                            message, then=upcoming.peek(n + 1), meanwhile=lambda n=n: upcoming.prepare(n + 2)
                        )
                    except Unsendable as error:  # refused before any of it was written: the session is clean
                        self._fail_alone(delivery_id, supporter_id, error, done)
                        continue
                    if result[0] == "sent":
                        self.claim.accepted(delivery_id)
                    self.outcomes.add(delivery_id, supporter_id, *result)
                    done.add(delivery_id)
                    self._count(result)
                    self._progress()
        except RelayDown as error:
            until = self.relay.mark_down(str(error))
            self._settle(done)
            raise Paused(f"relay {self.relay.name!r} cannot be reached ({error})", until) from error
        except (Paused, Halted, LeaseLost):
            self._settle(done)
            raise
        self._settle(done)
        self.relay.mark_up()
        return self.outcomes.counts

    def _fail_alone(self, delivery_id: int, supporter_id: int, error: Exception, done: set[int]) -> None:
        why = str(error) if isinstance(error, Unsendable) else f"could not be composed ({type(error).__name__})"
        log.warning("mailing %s: delivery %s cannot be sent: %s", self.mailing_id, delivery_id, why)
        self.outcomes.add(delivery_id, supporter_id, "failed", why)
        done.add(delivery_id)
        self._count(("failed", why))  # a fault in every message (a template's) pauses the mailing for staff
        self._progress()

    def _compose(self, row: tuple):
        delivery_id, _, email, first_name, language = row
        return self.composer.spliced(delivery_id, email=email, first_name=first_name, language=language)

    def _skip(self, delivery_id: int, supporter_id: int, why: str, done: set[int]) -> None:
        self.outcomes.add(delivery_id, supporter_id, "skipped", why)
        done.add(delivery_id)
        self._progress()

    def _progress(self) -> None:
        if len(self.outcomes) >= FLUSH_EVERY:
            self.outcomes.write()
            # Paused or cancelled meanwhile (its guard rails, on these refusals or a provider's report; staff): the
            # rest waits with it.
            self.halted = self._stopped()
        if time.monotonic() >= self.beat:
            self.claim.renew()
            self.beat = time.monotonic() + self.beat_every

    def _stopped(self) -> str | None:
        status = db.session.scalar(db.select(Mailing.status).where(Mailing.id == self.mailing_id))
        return None if status == MailingStatus.SENDING else f"the mailing is {status}"

    def _settle(self, done: set[int]) -> None:
        self.outcomes.write()
        self.claim.end(sorted(set(self.delivery_ids) - done))

    def _rows(self) -> list[tuple]:
        # Plain rows, not ORM objects: the progress commits would expire and reload each one.
        return db.session.execute(
            db.select(
                Delivery.id, Supporter.id, Supporter.email, Supporter.first_name, Supporter.language, Supporter.status
            )
            .join(Supporter, Supporter.id == Delivery.supporter_id)
            .where(one_of(Delivery.id, self.delivery_ids))
            .order_by(Delivery.id)
        ).all()

    def _acted(self, supporter_ids: set[int]) -> set[int]:
        """Who acted after the audience was taken: a not_acted email must not reach them."""
        if not self.not_acted or not supporter_ids:
            return set()
        query = db.select(Action.supporter_id).where(
            Action.case_id == self.case_id, Action.supporter_id.in_(supporter_ids)
        )
        return set(db.session.scalars(query))

    def _pace(self, remaining: int) -> None:
        """Wait for the relay's limits to allow the next message: permits come from Redis in runs."""
        if not self.relay.limited:
            return
        interval = 1 / self.relay.per_second if self.relay.per_second else 0
        if self.permits and interval and time.monotonic() > self.slot + interval / 2:
            # Fallen behind the times reserved (a slow flush, a busy machine): catching up would bunch emails
            # beyond the rate, so the rest of this run is given up and fresh times reserved.
            self.permits = 0
        if self.permits == 0:
            run = max(1, min(remaining, int((self.relay.per_second or 1000) / 5)))
            granted, wait, full = self.relay.reserve(run)
            if not granted:
                until = utcnow() + timedelta(seconds=full)
                raise Paused(
                    f"relay {self.relay.name!r} reached its limit of {self.relay.per_hour:g} emails an hour", until
                )
            self.permits, self.slot = granted, time.monotonic() + wait
        if (delay := self.slot - time.monotonic()) > 0:
            time.sleep(delay)
        self.slot += interval
        self.permits -= 1

    def _count(self, result: tuple[str, str | None]) -> None:
        self.tried += 1
        if result[0] == "sent":
            return
        self.errors += 1
        limit = current_app.config["SEND_PAUSE_AFTER_ERRORS"]
        if self.errors >= limit and self.errors * 2 >= self.tried:
            raise Paused(
                f"the relay refused {self.errors} of the last {self.tried} emails (the last: {result[1]}); "
                "resume the mailing once the cause is fixed",
                None,
            )


class Upcoming:
    """The batch's messages, each composed and written to bytes ahead of its turn: the one after next while the
    relay reads the current one (so that work overlaps the wait for the relay), and the next in time for a
    pipelining relay to get its envelope with the current message's content. An error composing a message
    is raised when that message's turn comes, not while the relay's reply to another is still unread."""

    def __init__(self, compose, session, rows: list[tuple]):
        self.compose, self.session, self.rows = compose, session, rows
        self.ready: dict[int, object] = {}
        self.errors: dict[int, Exception] = {}

    def prepare(self, n: int) -> None:
        if n >= len(self.rows) or n in self.ready or n in self.errors:
            return
        try:
            message = self.compose(self.rows[n])
            self.session.prepare(message)
            self.ready[n] = message
        except Exception as error:  # kept for its turn (see the class)
            self.errors[n] = error

    def take(self, n: int):
        """Message n (None past the last), composed now if it was not yet; raises what composing it raised."""
        self.prepare(n)
        if n in self.errors:
            raise self.errors.pop(n)
        return self.ready.pop(n, None)

    def peek(self, n: int):
        """Message n if it could be composed (None past the last, or when it could not: it fails at its turn)."""
        self.prepare(n)
        return self.ready.get(n)


class Outcomes:
    """Outcomes not yet written, and what the claim sent not yet counted. Each is written only while its delivery
    is still `sending` under this claim (a claim recovered behind a stalled worker's back changes nothing), and
    only what changed is counted."""

    def __init__(self, mailing_id: int, drive_id: int, claim: Claim):
        self.mailing_id, self.drive_id, self.claim = mailing_id, drive_id, claim
        self.pending: dict[str, dict[str | None, list[tuple[int, int]]]] = {}
        self.counts: dict[str, int] = {}
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, delivery_id: int, supporter_id: int, status: str, why: str | None) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        self.size += 1
        if status != "sent":  # already journalled by the claim
            self.pending.setdefault(status, {}).setdefault(why, []).append((delivery_id, supporter_id))

    def write(self) -> None:
        if not self.size:
            return
        claim_id, now = self.claim.id, utcnow()
        counted: list[tuple[str, int]] = []
        refusals: list[tuple[int, int, str]] = []
        for status, by_reason in self.pending.items():
            for why, pairs in by_reason.items():
                ids = [delivery_id for delivery_id, _ in pairs]
                if status == "deferred":
                    backoff = current_app.config["SEND_DEFER_BACKOFF"]
                    counted += [("failed", s) for s in delivery_state.defer(ids, claim_id, why, now, backoff)]
                    continue
                written = DeliveryStatus.SKIPPED if status == "skipped" else DeliveryStatus.FAILED
                changed = delivery_state.settle(ids, claim_id, written, why)
                counted += [(written.value, supporter_id) for _, supporter_id in changed]
                if status == "refused":
                    refusals += [(delivery_id, supporter_id, why) for delivery_id, supporter_id in changed]
        count_outcomes(self.mailing_id, self.drive_id, counted)
        self.claim.count_sent()
        if refusals:
            record_refusals(refusals, self.mailing_id)
        db.session.commit()
        self.pending.clear()
        self.size = 0
