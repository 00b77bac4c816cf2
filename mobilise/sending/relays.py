"""The SMTP relays mail leaves by: which one an office uses, its rate limits, and whether it is down.

The default relay is Flask-Mail's own (`MAIL_*`). `MAIL_RELAYS` adds more, each serving the offices it
names. A relay's limits and its outage hold for every worker on every machine: they live in Redis.
"""

import json
import smtplib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from functools import lru_cache

from flask import current_app
from flask_mail import Connection, email_dispatched
from redis import Redis

from ..clock import utcnow
from ..extensions import mail
from ..jobs import redis_connection, redis_script
from . import pipelining
from .message import BROKEN, Unsendable, unsendable

DEFAULT = "default"
SMTP_TIMEOUT = 60  # seconds: smtplib's default is to wait for ever on a relay that stopped answering

# Both limits at once, atomically for all workers. Per second: a virtual schedule (GCRA) that spaces
# messages 1/rate apart, handed out in runs. Per hour: a sliding window of minute buckets; a bucket counts
# until 60 minutes after its minute ends, so the window never lets more than the limit through.
# Returns {granted, ms to wait before the first, ms until the hourly window frees a message (when 0 granted)}.
_RESERVE = """
local now, want = tonumber(ARGV[1]), tonumber(ARGV[2])
local interval, hourly = tonumber(ARGV[3]), tonumber(ARGV[4])
local grant, wait = want, 0
local tat = now
if interval > 0 then
  tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
  wait = tat - now
end
if hourly > 0 then
  local minute = math.floor((now + wait) / 60000)
  local used, oldest = 0, minute
  local buckets = redis.call('HGETALL', KEYS[2])
  for i = 1, #buckets, 2 do
    local m = tonumber(buckets[i])
    if m > minute - 60 then
      used = used + tonumber(buckets[i + 1])
      oldest = math.min(oldest, m)
    else
      redis.call('HDEL', KEYS[2], buckets[i])
    end
  end
  grant = math.min(grant, hourly - used)
  if grant <= 0 then
    return {0, 0, (oldest + 60) * 60000 - now}
  end
  redis.call('HINCRBY', KEYS[2], minute, grant)
  redis.call('PEXPIRE', KEYS[2], 3660000)
end
if interval > 0 then
  local later = tat + grant * interval
  redis.call('SET', KEYS[1], tostring(later), 'PX', math.ceil(later - now) + 1000)
end
return {grant, math.floor(wait), 0}
"""


@dataclass(frozen=True)
class Relay:
    name: str
    settings: dict = field(hash=False)  # Flask-Mail's MAIL_* keys
    per_second: float | None = None
    per_hour: int | None = None
    offices: tuple[str, ...] = ()

    @property
    def limited(self) -> bool:
        return bool(self.per_second or self.per_hour)

    def connect(self) -> Connection:
        state = current_app.extensions["mail"] if self.name == DEFAULT else _state(self)
        return TimedConnection(state)

    def reserve(self, want: int) -> tuple[int, float, float]:
        """Take up to `want` messages from the relay's limits: (granted, seconds before the first may go,
        seconds until the hourly window frees one when none was granted)."""
        if not self.limited:
            return want, 0.0, 0.0
        script = redis_script(_RESERVE)
        interval = 1000 / self.per_second if self.per_second else 0
        granted, wait, full = script(
            keys=[f"mobilise:relay:{self.name}:tat", f"mobilise:relay:{self.name}:hour"],
            args=[int(time.time() * 1000), want, interval, self.per_hour or 0],
        )
        return int(granted), int(wait) / 1000, int(full) / 1000

    # A relay that cannot be reached is down for every mailing that uses it, for a backoff that grows
    # with each failed try; the first worker to find it back up clears it.

    def down_until(self, redis: Redis | None = None) -> tuple[datetime, str] | None:
        raw = (redis or redis_connection()).get(self._down_key)
        if raw is None:
            return None
        down = json.loads(raw)
        until = datetime.fromisoformat(down["until"])
        return (until, down["reason"]) if until > utcnow() else None

    def mark_down(self, reason: str) -> datetime:
        """Record a failed try; returns when to try again. A worker finding it already marked down
        for this outage leaves the backoff as it is, so a dozen batches do not count a dozen failures."""
        redis = redis_connection()
        if current := self.down_until():
            return current[0]
        raw = redis.get(self._down_key)
        failures = json.loads(raw)["failures"] + 1 if raw else 1
        backoff = current_app.config["SEND_RELAY_BACKOFF"]
        until = utcnow() + timedelta(seconds=backoff[min(failures, len(backoff)) - 1])
        down = {"until": until.isoformat(), "reason": reason, "failures": failures}
        redis.set(self._down_key, json.dumps(down), ex=24 * 3600)
        return until

    def mark_up(self) -> None:
        redis_connection().delete(self._down_key)

    @property
    def _down_key(self) -> str:
        return f"mobilise:relay:{self.name}:down"


class TimedConnection(Connection):
    """Flask-Mail's connection, with a timeout so that a relay that stops answering is a relay that is down,
    without re-parsing addresses that are plain ASCII already, and pipelining where the relay offers it.

    Everything that can go wrong with one message on our side is found before any of it is written, and
    raises Unsendable: the session is then as it was, for the next message. A message's envelope is written
    ahead (see `pipelining`) only once it has passed those checks, so one written ahead never fails them."""

    def __init__(self, mail) -> None:
        super().__init__(mail)
        self._pipeline_of = None  # the SMTP session `_pipelined` was made for
        self._pipelined: pipelining.Pipeline | None = None
        self._prepared: dict[int, pipelining.Envelope] = {}  # by id() of the message, written ahead of its turn

    def send(self, message, envelope_from=None, then=None, meanwhile=None) -> None:
        """Flask-Mail's `send`, less its `sanitize_address` on each envelope address (an email-package parse
        and a Header encode, a fifth of the time per email): the envelope carries the bare addresses, which
        is all smtplib keeps of the sanitised ones, with SMTPUTF8 when one is not ASCII. Raises Unsendable
        (see the class). `then`, the message to be sent next if any, lets a pipelining relay have its
        envelope with this message's content (see `pipelining`); `meanwhile` is work to do while the relay
        reads this message (it must keep its own errors)."""
        if message.date is None:
            message.date = time.time()
        if pipeline := self._pipeline():
            pipeline.sendmail(self._envelope(message, envelope_from), self._ahead(then, envelope_from), meanwhile)
        else:
            sender, recipients, options = self._route(message, envelope_from)
            if self.host is not None:
                self.host.sendmail(sender, recipients, _encoded(message), options, message.rcpt_options)
            if meanwhile:
                meanwhile()
        email_dispatched.send(current_app._get_current_object(), message=message)
        self.num_emails += 1
        if self.num_emails == self.mail.max_emails:
            self.num_emails = 0
            if self.host:
                self._abandon()
                self.host.quit()
                self.host = self.configure_host()

    def prepare(self, message, envelope_from=None) -> None:
        """Write `message` to bytes now, ahead of its turn (for a pipelining relay, while it reads the one before);
        raises Unsendable as `send` would. Without pipelining there is nothing to do ahead: `send` checks."""
        if self._pipeline():
            self._prepared[id(message)] = self._envelope(message, envelope_from)
            while len(self._prepared) > 2:  # the one being sent and the next; an abandoned one goes
                self._prepared.pop(next(iter(self._prepared)))

    def _ahead(self, then, envelope_from) -> pipelining.Envelope | None:
        """The envelope of `then` to write with this message's content; None when it cannot go (its turn says why)."""
        try:
            return self._envelope(then, envelope_from) if then is not None else None
        except Unsendable:
            return None

    def _envelope(self, message, envelope_from) -> pipelining.Envelope:
        """The message's envelope: the one written ahead or prepared for it, else made now (raises Unsendable)."""
        sender = _envelope_sender(message, envelope_from)
        for known in (self._pipelined.ahead, self._prepared.pop(id(message), None)):
            if known is not None and known.source is message and known.sender == sender:
                return known
        sender, recipients, options = self._route(message, envelope_from)
        return pipelining.Envelope(
            self.host, sender, recipients, _encoded(message), options, message.rcpt_options, source=message
        )

    def _route(self, message, envelope_from) -> tuple[str, list[str], list[str]]:
        """The envelope's sender and recipients as bare addresses, and the MAIL options; raises Unsendable when
        the message cannot go on this session. Reads the relay's EHLO, writes nothing."""
        sender = _envelope_sender(message, envelope_from)
        recipients = list(message.send_to)
        plain = all(isinstance(address, str) and address.isascii() for address in recipients)
        if not plain:
            recipients = [_bare(address) for address in recipients]
        if not sender or not recipients or not all(recipients):
            raise Unsendable("the message has no sender or a recipient without an address")
        if message.has_bad_headers():
            raise Unsendable("a header of the message holds a line break")
        if (plain or all(address.isascii() for address in recipients)) and sender.isascii() and _ascii_headers(message):
            return sender, recipients, message.mail_options
        return sender, recipients, [*message.mail_options, *self._smtputf8()]

    def _smtputf8(self) -> list[str]:
        """The MAIL options for a message with an address that is not ASCII (RFC 6531), where the relay offers them."""
        if self.host is None:
            return []  # sending is suppressed
        self.host.ehlo_or_helo_if_needed()
        if not self.host.has_extn("smtputf8"):
            raise Unsendable("an address has non-ASCII characters and the relay does not offer SMTPUTF8")
        # Such headers are 8-bit: RFC 6531 relays offer 8BITMIME, and smtplib's send_message says so too.
        return ["SMTPUTF8", "BODY=8BITMIME"] if self.host.has_extn("8bitmime") else ["SMTPUTF8"]

    def _pipeline(self) -> pipelining.Pipeline | None:
        """The session's pipeline if its relay offers PIPELINING (asked once per SMTP session), else None."""
        if self.host is None:
            return None
        if self._pipeline_of is not self.host:
            self._pipeline_of = self.host
            self._pipelined = pipelining.Pipeline(self.host) if pipelining.supports_pipelining(self.host) else None
        return self._pipelined

    def _abandon(self) -> None:
        if self._pipelined is not None and self._pipeline_of is self.host:
            self._pipelined.abandon()

    def configure_host(self):
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=current_app.config.get("SMTP_TIMEOUT", SMTP_TIMEOUT))
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def __exit__(self, *exc_info) -> None:
        # Every message is settled by now; a relay that drops the session before QUIT changes nothing.
        for step in (self._abandon, lambda: super(TimedConnection, self).__exit__(*exc_info)):
            try:
                step()
            except (smtplib.SMTPException, OSError):
                if self.host is not None:
                    self.host.close()


def _envelope_sender(message, envelope_from) -> str | None:
    """MAIL FROM: the one given, else the message's own (its VERP bounce address), else its From."""
    return _bare(envelope_from or getattr(message, "envelope_from", None) or message.sender)


@lru_cache(maxsize=256)
def _bare(address) -> str | None:
    """The address alone, as smtplib puts it in MAIL FROM and RCPT TO; None when there is none."""
    if isinstance(address, tuple):
        address = formataddr(address)
    return (parseaddr(address)[1] or None) if isinstance(address, str) else None


def _ascii_headers(message) -> bool:
    """Whether the addresses of From and Reply-To are ASCII (names do not count: RFC 2047 encodes them)."""
    reply_to = message.reply_to
    return (_bare(message.sender) or "").isascii() and (not reply_to or (_bare(reply_to) or "").isascii())


def _encoded(message) -> bytes:
    """The message's bytes; what goes wrong making them is this message's own (Unsendable)."""
    try:
        return message.as_bytes()
    except BROKEN as error:
        raise unsendable("encoding the message", error) from error


def relay_for(office_code: str) -> Relay:
    for relay in all_relays():
        if office_code in relay.offices:
            return relay
    return all_relays()[0]


def all_relays() -> list[Relay]:
    """The default relay first, then `MAIL_RELAYS` (read once per app)."""
    app = current_app._get_current_object()
    relays = app.extensions.get("mobilise.relays")
    if relays is None:
        config = app.config
        default = Relay(DEFAULT, {}, per_second=config.get("MAIL_PER_SECOND"), per_hour=config.get("MAIL_PER_HOUR"))
        relays = [default, *(parse_relay(item) for item in config.get("MAIL_RELAYS", ()))]
        app.extensions["mobilise.relays"] = relays
    return relays


def parse_relay(item: dict) -> Relay:
    """One entry of MAIL_RELAYS: {"name", "offices": [codes], "server", "port", "username", "password",
    "use_tls", "use_ssl", "per_second", "per_hour"}."""
    if not item.get("name") or not item.get("server") or item["name"] == DEFAULT:
        raise ValueError(f"MAIL_RELAYS: each relay needs a name (not {DEFAULT!r}) and a server: {item!r}")
    settings = {
        f"MAIL_{key.upper()}": item[key]
        for key in ("server", "port", "username", "password", "use_tls", "use_ssl")
        if key in item
    }
    return Relay(
        item["name"],
        settings,
        per_second=item.get("per_second"),
        per_hour=item.get("per_hour"),
        offices=tuple(code.upper() for code in item.get("offices", ())),
    )


def _state(relay: Relay):
    key = f"mobilise.relay.{relay.name}"
    app = current_app._get_current_object()
    if key not in app.extensions:
        app.extensions[key] = mail.init_mail({"MAIL_SUPPRESS_SEND": False, **relay.settings})
    return app.extensions[key]
