"""Country offices: adding them and finding them.

What goes in the headers of every email an office sends (its name, its sender's name and addresses) is
checked here, when the office is made, so that no send can fail on it.
"""

import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, WithJsonSchema, field_validator, model_validator

from ..audit.service import record
from ..errors import Conflict, NotFound
from ..extensions import db
from ..validation import Language, LongText, Strict, Timezone, parse
from .dkim_keys import KEY_LENGTH, SELECTOR_LENGTH, checked_private_key, checked_selector
from .models import LOGO_URL_LENGTH, Office
from .themes import Themes


def _one_line(value: str) -> str:
    """A name for the From header: a line break would end the header, another control character spoil it."""
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
        raise ValueError("must be one line, without control characters")
    return value


def _sending_address(value: str) -> str:
    """An address the office sends from or takes replies at: its domain written as the DNS does (IDNA), and
    ASCII before the @, or every email of the office would need a relay that offers SMTPUTF8."""
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    if checked.ascii_email is None:
        raise ValueError("the part before the @ must be ASCII: not every relay takes other characters")
    return checked.ascii_email.lower()


# Loopback only for development and tests: every supporter's mail client fetches the logo, over HTTPS.
_PLAIN_HTTP_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _image_url(value: str) -> str:
    """The URL of the office's logo, as every mail client will fetch it: HTTPS (or HTTP to this machine),
    a host, no credentials, nothing a client would mangle (spaces, control characters)."""
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in value):
        raise ValueError("must be a URL without spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (a port that is not a number in range raises here)
    except ValueError:
        raise ValueError("must be a URL such as https://example.org/logo.png") from None
    if not host or parts.scheme not in ("https", "http") or (parts.scheme == "http" and host not in _PLAIN_HTTP_HOSTS):
        raise ValueError("must be an https:// URL such as https://example.org/logo.png")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    return value


HeaderName = Annotated[str, AfterValidator(_one_line)]
SendingAddress = Annotated[str, AfterValidator(_sending_address)]
ImageUrl = Annotated[str, Field(max_length=LOGO_URL_LENGTH), AfterValidator(_image_url)]
DkimSelector = Annotated[str, Field(min_length=1, max_length=SELECTOR_LENGTH), AfterValidator(checked_selector)]
# Write-only: no answer, log or error shows it back (a 422 names the field and what is wrong, never the value).
DkimPrivateKey = Annotated[
    str,
    Field(max_length=KEY_LENGTH),
    AfterValidator(checked_private_key),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": KEY_LENGTH,
            "writeOnly": True,
            "description": "a PEM private key, RSA of 1024-4096 bits or Ed25519",
        }
    ),
]


class DkimIn(Strict):
    """An office's DKIM selector and key, set together (both null: the office's emails go unsigned)."""

    dkim_selector: DkimSelector | None = None
    dkim_private_key: DkimPrivateKey | None = None

    @model_validator(mode="after")
    def _together(self):
        if (self.dkim_selector is None) != (self.dkim_private_key is None):
            missing = "dkim_private_key" if self.dkim_private_key is None else "dkim_selector"
            raise ValueError(f"dkim_selector and dkim_private_key are set together: {missing} is missing")
        return self

    def dkim_sent(self) -> bool:
        return bool({"dkim_selector", "dkim_private_key"} & self.model_fields_set)


class OfficeIn(DkimIn):
    code: str = Field(pattern=r"^[A-Za-z]{2}$")
    name: HeaderName = Field(min_length=1, max_length=200)
    language: Language
    timezone: Timezone
    sender: SendingAddress
    sender_name: HeaderName | None = Field(default=None, max_length=200)
    reply_to: SendingAddress | None = None
    address: LongText = ""
    send_hour: int = Field(default=10, ge=0, le=23)
    reminder_days: list[int] = Field(default_factory=lambda: [7, 2], max_length=20)
    logo_url: ImageUrl | None = None
    themes: Themes | None = None

    @field_validator("reminder_days")
    @classmethod
    def _positive_and_distinct(cls, days: list[int]) -> list[int]:
        if any(day < 1 or day > 60 for day in days):
            raise ValueError("each reminder day must be between 1 and 60")
        return sorted(set(days), reverse=True)


def create_office(data: dict) -> Office:
    fields = parse(OfficeIn, data)
    code = fields.code.upper()
    if db.session.scalar(db.select(Office.id).where(Office.code == code)):
        raise Conflict(f"office {code} already exists")
    office = Office(
        code=code,
        name=fields.name,
        language=fields.language,
        timezone=fields.timezone,
        sender_email=fields.sender,
        sender_name=fields.sender_name,
        reply_to=fields.reply_to,
        postal_address=fields.address,
        send_hour=fields.send_hour,
        reminder_days=fields.reminder_days,
        logo_url=fields.logo_url,
        dkim_selector=fields.dkim_selector,
        dkim_private_key=fields.dkim_private_key,
        themes=fields.themes or None,
    )
    db.session.add(office)
    db.session.flush()
    record(
        "office.created", subject=f"office {code}", office=office, details={"dkim": office.dkim_selector is not None}
    )
    db.session.commit()
    return office


class OfficeSettingsIn(DkimIn):
    """What an office changes of itself after it is made: its logo, its DKIM selector and key. Only the fields
    sent change; null removes."""

    logo_url: ImageUrl | None = None
    # The themes its preference page offers; null or [] for the standard list.
    themes: Themes | None = None


def change_office(office: Office, data: dict) -> Office:
    fields = parse(OfficeSettingsIn, data)
    if "logo_url" in fields.model_fields_set:
        office.logo_url = fields.logo_url
    if "themes" in fields.model_fields_set:
        office.themes = fields.themes or None
    if fields.dkim_sent():
        office.dkim_selector, office.dkim_private_key = fields.dkim_selector, fields.dkim_private_key
    # The names of what changed: never the key itself.
    record(
        "office.settings_changed",
        subject=f"office {office.code}",
        office=office,
        details={"fields": sorted(fields.model_fields_set)},
    )
    db.session.commit()
    return office


def get_office(code: str) -> Office:
    office = db.session.scalar(db.select(Office).where(Office.code == code.upper()))
    if office is None:
        raise NotFound(f"no office {code.upper()}")
    return office


def list_offices() -> list[Office]:
    return list(db.session.scalars(db.select(Office).order_by(Office.code)))
