"""The messenger seam: what `sending` hands composed messages to, and the outcome it gets back for each.

A `Session` is one SMTP session on a relay, open for a batch (or a single email):

- `prepare(message)` writes a message to bytes ahead of its turn (raises Unsendable as `deliver` would);
- `deliver(message, then=, meanwhile=)` sends one and returns its `Outcome`: sent, refused (the address,
  for good), failed (the message, for good) or deferred (a temporary refusal);
- a relay that cannot take mail at all (unreachable, 421, a 4xx to MAIL FROM) raises `RelayDown`;
  a message that cannot go on this session raises `Unsendable` before any of it is written.

Two implementations sit behind it, chosen per SMTP session by what the relay offers (`relays.TimedConnection`):
the pipelined fast path (`pipelining.Pipeline`, one round trip an email) and Flask-Mail's plain session
(smtplib's `sendmail`). The replies and outcomes are the same on both (tests/test_pipelining.py).
"""

import smtplib
from contextlib import contextmanager
from typing import NamedTuple

# A session that breaks (the relay gone mid-batch, a refused connection) is a relay that is down.
UNREACHABLE = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPHeloError, OSError)


class RelayDown(Exception):
    """The relay cannot take mail now (unreachable, 421, a 4xx to MAIL FROM)."""


class Outcome(NamedTuple):
    status: str  # sent | refused | failed | deferred
    why: str | None = None


SENT = Outcome("sent")


class Session:
    def __init__(self, connection):
        self.connection = connection

    def prepare(self, message) -> None:
        self.connection.prepare(message)

    def deliver(self, message, then=None, meanwhile=None) -> Outcome:
        """`then` is the message to be sent next, if any (a pipelining relay gets its envelope with this one's
        content); `meanwhile` is work to do while the relay reads this one."""
        try:
            self.connection.send(message, then=then, meanwhile=meanwhile)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            return _classify(code, reply, permanent="refused")
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            if isinstance(error, smtplib.SMTPSenderRefused) and error.smtp_code < 500:
                raise RelayDown(f"{error.smtp_code} {_text(error.smtp_error)}") from error
            return _classify(error.smtp_code, error.smtp_error, permanent="failed")
        except UNREACHABLE as error:
            raise RelayDown(f"{type(error).__name__}: {error}") from error
        return SENT


@contextmanager
def open_session(relay):
    """A session on `relay` (a `relays.Relay`); RelayDown when it cannot be opened or closes badly mid-way."""
    try:
        with relay.connect() as connection:
            yield Session(connection)
    except UNREACHABLE as error:
        raise RelayDown(f"{type(error).__name__}: {error}") from error


def _classify(code: int, reply: bytes, *, permanent: str) -> Outcome:
    why = f"{code} {_text(reply)}"
    if code == 421:  # the relay is closing the session: nothing to do with this address
        raise RelayDown(why)
    return Outcome("deferred" if code < 500 else permanent, why)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
