"""An email's bytes on the wire, written directly rather than through Python's email package.

A mailing's text and HTML are the same for every recipient but a few values (the links with their
tokens, the first name). `Skeleton` quoted-printable-encodes the shared parts once per language and
splices each recipient's values in between, each on lines of its own joined by soft line breaks
(`=` at a line's end, which decoding removes). A recipient then costs a join, not the ~4 ms the
email package takes to build and encode 15 KB. Headers are folded by the same policy as before.

The bytes are ASCII but for an address with non-ASCII characters in From, To or Reply-To: that header is
written in UTF-8 (RFC 6532), and such a message goes only with SMTPUTF8 (see `relays`). A domain alone
that is not ASCII needs none of that: `idna_address` writes it as the DNS does.
"""

import secrets
from datetime import UTC, datetime
from email import quoprimime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, getaddresses
from functools import lru_cache
from html import escape

from email_validator import EmailNotValidError, validate_email

from ..clock import utcnow
from .render import PLACEHOLDER

# Python's folder RFC 2047-encodes a header word longer than a line (a long URL), and
# mailbox providers then ignore List-Unsubscribe. These headers are ASCII by construction,
# so they are written as they are, folded only between their comma-separated URIs.
VERBATIM_HEADERS = {"list-unsubscribe", "list-unsubscribe-post"}
ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "sender"}


class MailPolicy(EmailPolicy):
    def _verbatim(self, name: str, value) -> str:
        parts = [part.strip() for part in str(value).split(",")]
        line = f"{name}: {', '.join(parts)}"
        if len(line) > self.max_line_length:
            line = f"{name}: " + f",{self.linesep} ".join(parts)
        return line + self.linesep

    def fold(self, name, value):
        if name.lower() in VERBATIM_HEADERS:
            return self._verbatim(name, value)
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() in VERBATIM_HEADERS:
            return self._verbatim(name, value).encode("ascii")
        return super().fold_binary(name, value)


POLICY = MailPolicy(linesep="\r\n")
UTF8_POLICY = POLICY.clone(utf8=True)  # RFC 2047 cannot encode an address, only names: RFC 6532 writes it as it is


# Quoted-printable writes every "=" in a body as "=3D", so a boundary starting "=_" can never occur in one.
BOUNDARY = f"=_mobilise_{secrets.token_hex(12)}"
_MAX_LINE = 76  # quoted-printable's limit, counting a soft break's "="
_SOFT_BREAK = "=\r\n"
_PART_HEAD = '--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'


def encode_part(text: str) -> str:
    """`text` as UTF-8, quoted-printable, its last line short enough to take a soft break's "=" after it."""
    # body_encode encodes characters, one byte each: give it the UTF-8 bytes as Latin-1 characters.
    octets = text.replace("\r\n", "\n").encode("utf-8").decode("latin-1")
    return quoprimime.body_encode(octets, _MAX_LINE - 1, "\r\n")


def _qp_value(value: str) -> str:
    # Most values are URLs and names in plain ASCII: encoding leaves them as they are, only cut to length.
    if value.isascii() and value.isprintable() and "=" not in value and value.strip() == value:
        width = _MAX_LINE - 1
        return _SOFT_BREAK.join(value[i : i + width] for i in range(0, len(value), width))
    return encode_part(value)


class Skeleton:
    """One part (text or HTML) with placeholders (see `render`), encoded once; `fill()` splices in a recipient's values."""

    def __init__(self, template: str, *, html: bool):
        pieces = PLACEHOLDER.split(template)  # static, name, static, name, …, static
        self.static = [encode_part(piece) for piece in pieces[0::2]]
        self.names = pieces[1::2]
        self.html = html

    def fill(self, values: dict[str, str]) -> str:
        out = [self.static[0]]
        for name, static in zip(self.names, self.static[1:]):
            value = values[name]
            out += (_SOFT_BREAK, _qp_value(escape(value, quote=True) if self.html else value), _SOFT_BREAK, static)
        return "".join(out)


def message_bytes(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """The whole message: `headers` in order, then a multipart/alternative of the encoded `text` and `html`."""
    out = [_header(name, value) for name, value in headers]
    out.append(f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary="{BOUNDARY}"\r\n\r\n')
    out += (_PART_HEAD.format(boundary=BOUNDARY, subtype="plain"), text, "\r\n")
    out += (_PART_HEAD.format(boundary=BOUNDARY, subtype="html"), html, "\r\n")
    out.append(f"--{BOUNDARY}--\r\n")
    return "".join(out).encode("utf-8")


def _header(name: str, value: str) -> str:
    if name.lower() in VERBATIM_HEADERS:
        if not value.isascii():
            raise ValueError(f"{name} must be ASCII")  # written as it is, so it could not be encoded
        return POLICY._verbatim(name, value)
    if value.isascii() and "\n" not in value and "\r" not in value and len(name) + len(value) < 76:
        return f"{name}: {value}\r\n"  # nothing to fold or encode (most To and Message-ID lines)
    return _folded(name, value)


@lru_cache(maxsize=1024)
def _folded(name: str, value: str) -> str:
    """Folded and, where not ASCII, RFC 2047-encoded by the email package (once per distinct subject, sender…);
    in UTF-8 for an address that is not ASCII. A line break in `value` raises ValueError: no header is injected."""
    international = name.lower() in ADDRESS_HEADERS and not all(
        address.isascii() for _, address in getaddresses([value])
    )
    message = EmailMessage(policy=UTF8_POLICY if international else POLICY)
    message[name] = value
    return message.as_string().split("\r\n\r\n", 1)[0] + "\r\n"


def idna_address(address: str) -> str:
    """`address` with its domain in ASCII (IDNA) when the local part is ASCII: it then goes without SMTPUTF8."""
    if address.isascii():
        return address
    try:
        return validate_email(address, check_deliverability=False).ascii_email or address
    except EmailNotValidError:
        return address  # sent as it is, or refused alone (see `relays`)


@lru_cache(maxsize=4)
def _date_at(second: datetime) -> str:
    return format_datetime(second.replace(tzinfo=UTC))


def date_now() -> str:
    """The Date header's value, formatted once a second."""
    return _date_at(utcnow().replace(microsecond=0))
