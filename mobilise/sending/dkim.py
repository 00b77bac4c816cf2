"""DKIM signatures (RFC 6376) for the offices whose relay does not sign: every email, after its bytes are written.

dkimpy does the protocol: it parses the headers, selects and canonicalizes the signed ones (relaxed, which
survives a relay refolding a header) and hashes them with the signature's own header. The body's relaxed
canonicalization is `relaxed_body`, the same bytes as dkimpy's, done faster. The private-key operation is
OpenSSL's (cryptography), on a key object made once per key and process: dkimpy's own RSA is pure Python
and costs several times a whole email's sending (README, *Benchmarks*).

`Unsendable` for a message that cannot be signed: it fails alone, as one that cannot be encoded.
"""

import base64
import hashlib
import time

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from dkim.canonicalization import CanonicalizationPolicy, correct_empty_body, strip_trailing_lines

from ..offices.dkim_keys import algorithm, load_key
from ..offices.models import Office
from .message import BROKEN, unsendable
from .wire import idna_address

# Gmail's one-click unsubscribe counts only when both List-Unsubscribe headers are signed. A header the
# message lacks (Reply-To) is signed as absent, so none can be added on the way; From is signed twice, as
# dkimpy does by default, so that no second From can be either.
SIGNED = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"from",
)
RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_HEADER = b"DKIM-Signature"
_SIGNATURE_LINE = 72  # b= is cut into lines this long (whitespace in it is ignored), as dkimpy folds the rest
_PKCS1 = (padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
SIGNING_FAILED = (*BROKEN, dkim.DKIMException)


class Signer:
    """Signs messages for one selector and domain with one key, loaded when the signer is made. A key that cannot
    be loaded (a row written around the service's checks) fails each message alone, with the reason, so the
    batch's refusal threshold pauses the mailing for staff, as a broken template does."""

    def __init__(self, selector: str, domain: str, pem: str):
        self.failure: Exception | None = None
        try:
            self.key = load_key(pem)
            kind = algorithm(self.key)
            self._tags = b"v=1; a=%s-sha256; c=relaxed/relaxed; d=%s; s=%s; " % (
                kind.encode(),
                domain.encode("ascii"),
                selector.encode("ascii"),
            )
        except SIGNING_FAILED as error:
            self.failure = error
            return
        self.rsa = kind == "rsa"

    def sign(self, message: bytes) -> bytes:
        """`message` with its DKIM-Signature header first; Unsendable when it cannot be signed."""
        try:
            if self.failure is not None:
                raise self.failure
            return self._signature(message) + message
        except SIGNING_FAILED as error:
            raise unsendable("signing the message", error) from error

    def _signature(self, message: bytes) -> bytes:
        # The body as dkimpy would split it off (our lines all end in CRLF), without splitting it into lines.
        head, _, body = message.partition(b"\r\n\r\n")
        headers = dkim.select_headers(dkim.rfc822_parse(head + b"\r\n\r\n")[0], SIGNED)
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
        tags = self._tags + b"t=%d; h=%s; bh=%s; b=" % (int(time.time()), b" : ".join(SIGNED), body_hash)
        unsigned = dkim.fold(tags, namelen=len(_HEADER))
        digest = hashlib.sha256()
        dkim.hash_headers(
            digest, RELAXED, RELAXED.canonicalize_headers(headers), SIGNED, (_HEADER, b" " + unsigned), None
        )
        signature = base64.b64encode(
            self.key.sign(digest.digest(), *_PKCS1) if self.rsa else self.key.sign(digest.digest())
        )
        # On lines of its own: the whitespace around and inside b= is not part of what is signed.
        lines = [signature[i : i + _SIGNATURE_LINE] for i in range(0, len(signature), _SIGNATURE_LINE)]
        return _HEADER + b": " + unsigned + b"".join(b"\r\n\t" + line for line in lines) + b"\r\n"


_TAB_TO_SPACE = bytes.maketrans(b"\t", b" ")


def relaxed_body(body: bytes) -> bytes:
    """dkimpy's relaxed body canonicalization (RFC 6376, 3.4.4), the same bytes, by replacing rather than by
    regular expressions: an email's HTML is indented with runs of spaces, and dkimpy's `[\\t ]+` substitution
    replaces every single one of them (tests/test_dkim.py compares the two)."""
    body = body.translate(_TAB_TO_SPACE)
    while b"  " in body:
        body = body.replace(b"  ", b" ")
    return correct_empty_body(strip_trailing_lines(body.replace(b" \r\n", b"\r\n")))


def signer_for(office: Office) -> Signer | None:
    """The office's signer, or None when it has no DKIM key (its relay may sign; its mail goes as it is)."""
    if not (office.dkim_selector and office.dkim_private_key):
        return None
    domain = idna_address(office.sender_email).rsplit("@", 1)[1]  # checked and written as ASCII when the office is made
    return Signer(office.dkim_selector, domain, office.dkim_private_key)
