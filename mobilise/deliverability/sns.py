"""Amazon SNS messages to an HTTPS endpoint, verified as AWS documents ("Verifying the signatures of Amazon SNS
messages"): a topic we accept, a Timestamp within REPLAY_WINDOW, and the signature (SignatureVersion 1 is
SHA1withRSA, 2 is SHA256withRSA) over the message's canonical string, by the certificate at SigningCertURL,
fetched over verified HTTPS and only from an SNS host.

A certificate is kept in the app and in Redis, so each gunicorn worker need not fetch it. What is read back is
parsed and dated again, and a signature that fails on a kept certificate is tried once more on a fresh fetch
(at most once per REFETCH_PAUSE for a URL), so a bad entry never locks verification out.

Two settings that no environment variable sets point the fetch at a test's own server: SNS_FETCH_CA_FILE (the only
CA trusted) and SNS_FETCH_CONNECT_TO ({host: (address, port)}, where to connect for that host; the TLS name
checked is still the host's). The host rule itself is never relaxed.
"""

import base64
import hashlib
import http.client
import json
import logging
import re
import socket
import ssl
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import current_app
from redis.exceptions import RedisError

from ..clock import to_naive_utc, utcnow
from ..errors import BadRequest, Forbidden, Unauthorized, Unavailable
from ..jobs import redis_connection

log = logging.getLogger(__name__)

# The label must be a region (us-east-1, us-gov-west-1, cn-north-1): `sns.s3.amazonaws.com` is an S3 bucket's name
# under AWS's wildcard certificate, and whoever owns that bucket must not be able to serve a "signing" certificate.
SNS_HOST = re.compile(r"sns\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}\.amazonaws\.com(\.cn)?")
ALGORITHMS = {"1": hashes.SHA1, "2": hashes.SHA256}
# The fields each message type signs, in the order of the canonical string ("Subject" only when present).
CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": CONFIRMATION,
    "UnsubscribeConfirmation": CONFIRMATION,
}
REPLAY_WINDOW = timedelta(hours=1)  # SNS retries an HTTPS delivery with the Timestamp of its first try
CLOCK_SKEW = timedelta(minutes=5)
CACHE_SECONDS = 24 * 3600
REFETCH_PAUSE = 300
MAX_BYTES = 64 * 1024
TIMEOUT = 5


def verified_message(body: bytes, config) -> dict:
    """The SNS message in `body`, once everything AWS asks to check holds. 401 when no topic is set up; 403 for
    a topic not ours, a stale, unsigned or forged message; nothing is fetched before the URL rule holds."""
    topics = config.get("SES_TOPIC_ARNS") or ()
    if not topics:
        raise Unauthorized("the ses webhook is not set up (SES_TOPIC_ARNS)")
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    if not isinstance(message, dict) or _text(message, "Type") not in SIGNED:
        raise BadRequest("not an Amazon SNS message")
    if _text(message, "TopicArn") not in topics:
        raise Forbidden("the message is for a topic this service does not accept")
    algorithm = ALGORITHMS.get(_text(message, "SignatureVersion"))
    if algorithm is None or _text(message, "Signature") is None:
        raise Forbidden("the message is not signed as SNS signs")
    if not is_sns_url(message.get("SigningCertURL"), pem=True):
        raise Forbidden("SigningCertURL is not an Amazon SNS certificate")
    _check_fresh(message.get("Timestamp"))
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
    except ValueError:
        raise Forbidden("the signature is not base64") from None
    _verify(message["SigningCertURL"], signature, canonical_string(message), algorithm(), config)
    return message


def is_sns_url(url, *, pem: bool = False) -> bool:
    """https on an `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn`) host, nothing else in the authority."""
    if not isinstance(url, str) or not url.isascii() or not url.isprintable() or " " in url:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.username is None
        and port in (None, 443)
        and SNS_HOST.fullmatch(parts.hostname or "") is not None
        and (not pem or parts.path.endswith(".pem"))
    )


def _text(message: dict, field: str) -> str | None:
    value = message.get(field)
    return value if isinstance(value, str) else None


def canonical_string(message: dict) -> bytes:
    """Each signed field as its name and value, a line each, in the documented order."""
    lines = []
    for field in SIGNED[message["Type"]]:
        value = message.get(field)
        if field == "Subject" and value is None:
            continue
        if not isinstance(value, str):
            raise Forbidden(f"the signed field {field} is missing")
        lines += [field, value]
    return "".join(f"{line}\n" for line in lines).encode()


def confirm_subscription(message: dict, config) -> None:
    """Visit the verified confirmation's SubscribeURL, on an SNS host only."""
    url = message.get("SubscribeURL")
    if not is_sns_url(url):
        raise Forbidden("SubscribeURL is not an Amazon SNS URL")
    status, _ = https_get(url, config)
    if status != 200:
        raise Unavailable(f"SNS answered {status} to the subscription confirmation")
    log.info("confirmed the SNS subscription to %s", message["TopicArn"])


def https_get(url: str, config) -> tuple[int, bytes]:
    """GET over verified TLS, no redirect followed, at most MAX_BYTES read. Unreachable: 503 (SNS retries)."""
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=config.get("SNS_FETCH_CA_FILE"))
    connect_to = (config.get("SNS_FETCH_CONNECT_TO") or {}).get(parts.hostname)
    connection = _Connection(parts.hostname, context=context, connect_to=connect_to)
    try:
        connection.request(
            "GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers={"User-Agent": "Mobilise"}
        )
        response = connection.getresponse()
        return response.status, response.read(MAX_BYTES)
    except (OSError, http.client.HTTPException) as error:
        raise Unavailable(f"could not reach {parts.hostname}: {type(error).__name__}") from None
    finally:
        connection.close()


class _Connection(http.client.HTTPSConnection):
    def __init__(self, host: str, *, context: ssl.SSLContext, connect_to: tuple[str, int] | None):
        super().__init__(host, 443, timeout=TIMEOUT, context=context)
        self.tls, self.connect_to = context, connect_to

    def connect(self):
        if self.connect_to is None:
            return super().connect()
        self.sock = self.tls.wrap_socket(
            socket.create_connection(self.connect_to, self.timeout), server_hostname=self.host
        )


def _check_fresh(timestamp) -> None:
    try:
        moment = to_naive_utc(datetime.fromisoformat(timestamp))
    except (TypeError, ValueError):
        raise Forbidden("the message has no valid Timestamp") from None
    now = utcnow()
    if not now - REPLAY_WINDOW <= moment <= now + CLOCK_SKEW:
        raise Forbidden("the message is stale (Timestamp outside the replay window)")


def _verify(url: str, signature: bytes, canonical: bytes, algorithm, config) -> None:
    kept = _kept(url)
    if kept is not None and _signs(kept, signature, canonical, algorithm):
        return
    cache = _app_cache()
    if kept is not None and time.monotonic() - cache["refetched"].get(url, -REFETCH_PAUSE) < REFETCH_PAUSE:
        raise Forbidden("the signature does not verify")
    cache["refetched"][url] = time.monotonic()
    if not _signs(_fetch(url, config), signature, canonical, algorithm):
        raise Forbidden("the signature does not verify")


def _signs(certificate: x509.Certificate, signature: bytes, canonical: bytes, algorithm) -> bool:
    try:
        certificate.public_key().verify(signature, canonical, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return False
    return True


def _kept(url: str) -> x509.Certificate | None:
    """The certificate this app or another worker fetched from `url`, if it still reads as one in date."""
    certificates = _app_cache()["certificates"]
    if (certificate := certificates.get(url)) is not None and _usable(certificate):
        return certificate
    try:
        pem = redis_connection().get(_redis_key(url))
    except RedisError:
        return None
    certificate = _load(pem) if pem else None  # a bad entry reads as none: the fetch below replaces it
    if certificate is not None:
        certificates[url] = certificate
    return certificate


def _fetch(url: str, config) -> x509.Certificate:
    status, pem = https_get(url, config)
    certificate = _load(pem) if status == 200 else None
    if certificate is None:
        raise Forbidden("SigningCertURL holds no usable certificate")
    certificates = _app_cache()["certificates"]
    if len(certificates) > 32:  # certificates rotate rarely; a flood of URLs must not grow memory
        certificates.clear()
    certificates[url] = certificate
    seconds = min(CACHE_SECONDS, int((certificate.not_valid_after_utc - datetime.now(UTC)).total_seconds()))
    try:
        redis_connection().set(_redis_key(url), pem, ex=max(seconds, 1))
    except RedisError:
        log.warning("could not keep the SNS certificate in Redis")
    return certificate


def _load(pem: bytes) -> x509.Certificate | None:
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None
    return certificate if _usable(certificate) and isinstance(certificate.public_key(), rsa.RSAPublicKey) else None


def _usable(certificate: x509.Certificate) -> bool:
    return certificate.not_valid_before_utc <= datetime.now(UTC) <= certificate.not_valid_after_utc


def _redis_key(url: str) -> str:
    return "mobilise:sns-certificate:" + hashlib.sha256(url.encode()).hexdigest()


def _app_cache() -> dict:
    return current_app.extensions.setdefault("mobilise.sns", {"certificates": {}, "refetched": {}})
