"""What the providers' JSON webhooks share: their secret from the settings, a signed timestamp inside the replay
window, and a body from outside read field by field into `Report`s.

A provider's module verifies the request, then reads every event before it returns any, so that a body with one
bad event records nothing (400) rather than the events before it. Whatever is not the shape the provider
documents is a `BadRequest`, never an exception that would answer 500.
"""

import hmac
import json
import time

from ..errors import BadRequest, Forbidden, Unauthorized
from ..sending.provider_tags import DELIVERY_ARG, delivery_id_from

# How old a signed timestamp may be: a provider's retry carries the signature of its first try (Mailgun retries
# for 8 hours, SendGrid for 24), so the window must outlast its retries or a failed write would lose the event.
# What the window cannot stop, the rest does: SendGrid signs the whole body and each event counts once by its id;
# Mailgun's token is bound to its first body (see mailgun.py).
MAILGUN_WINDOW = 9 * 3600
SENDGRID_WINDOW = 25 * 3600
CLOCK_SKEW = 600  # how far ahead of our clock a timestamp may be
ID_LENGTH = 500  # an event id, a Message-ID, a type: longer is not what a provider sends
ADDRESS_LENGTH = 320  # RFC 5321's path limit, generously
DETAIL_LENGTH = 2000  # what a supporter's bounce keeps of the provider's diagnostic


def secret(config, key: str, provider: str) -> str:
    """The provider's setting, or 401: a webhook that is not set up accepts nothing."""
    value = config.get(key)
    if not value:
        raise Unauthorized(f"{provider} webhooks are not set up ({key} is unset)")
    return value


def check_fresh(timestamp, window: float) -> None:
    """403 unless `timestamp` (seconds since the epoch, as a number or its digits) is at most `window` seconds old
    (and not ahead of our clock by more than CLOCK_SKEW)."""
    try:
        seconds = float(timestamp)
    except (TypeError, ValueError, OverflowError):
        raise Forbidden("the signed timestamp is missing or not a number") from None
    if not -CLOCK_SKEW <= time.time() - seconds <= window:  # `not <=` also refuses NaN
        raise Forbidden("the signed timestamp is outside the replay window")


def same(given: str, expected: str) -> bool:
    """Compared in constant time, so a forger learns nothing from how long a refusal takes."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def load_json(body: bytes):
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("the body is not JSON") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class Fields:
    """One JSON object from a provider, read by the names its documentation gives them."""

    def __init__(self, data, where: str):
        if not isinstance(data, dict):
            raise BadRequest(f"{where} is not an object")
        self.data, self.where = data, where

    def text(self, key: str, limit: int = ID_LENGTH, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise BadRequest(f"{self.where}.{key} is missing")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # Postmark's numeric IDs
        if not isinstance(value, str):
            raise BadRequest(f"{self.where}.{key} is not a string")
        if len(value) > limit:
            raise BadRequest(f"{self.where}.{key} is too long")
        return value

    def detail(self, key: str) -> str | None:
        """A diagnostic for staff: any length the provider sends, kept to what a bounce holds."""
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{self.where}.{key} is not a string")
        return value[:DETAIL_LENGTH] if value else None

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise BadRequest(f"{self.where}.{key} is not true or false")
        return value

    def object(self, key: str) -> "Fields":
        """A nested object; an absent or null one reads as empty."""
        value = self.data.get(key)
        return Fields({} if value is None else value, f"{self.where}.{key}")

    def delivery(self) -> int | None:
        """The delivery id the service attached to the email for this provider, when this object carries it."""
        return delivery_id_from(self.data.get(DELIVERY_ARG))


def events_in(data, where: str) -> list[Fields]:
    if not isinstance(data, list):
        raise BadRequest(f"{where} is not a list of events")
    return [Fields(item, f"{where}[{n}]") for n, item in enumerate(data)]
