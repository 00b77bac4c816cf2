"""Input types shared by the API and the command line."""
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH, LOCAL_PART_MAX_LENGTH
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from .errors import Invalid, pydantic_details


def normalise_email(value: str) -> str:
    """Trimmed, checked (syntax only, no DNS) and lower-cased: the contract compares addresses so.

    The common address (a plain ASCII local part at a domain seen before) takes a short way with the
    same answer: email-validator checks each domain once, not once per row of a million-row import.
    """
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if at and len(local) <= LOCAL_PART_MAX_LENGTH and DOT_ATOM_TEXT.match(local):
        checked_domain = _checked_domain(domain)
        if checked_domain is not None and len(local) + 1 + len(checked_domain) <= EMAIL_MAX_LENGTH:
            return f"{local}@{checked_domain}".lower()
    return _validated(value)


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    """The domain as email-validator writes it, if it is a plain ASCII name it accepts; else None (the long way)."""
    try:
        checked = validate_email(f"x@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None
    return checked if checked.isascii() else None


def _validated(value: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    return checked.normalized.lower()


def language_code(value: str) -> str:
    value = value.strip().lower()
    if not (2 <= len(value) <= 3 and value.isalpha()):
        raise ValueError("must be an ISO 639-1 code such as en, es, fr")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA timezone such as Europe/London") from None
    if value not in available_timezones():
        raise ValueError("must be an IANA timezone such as Europe/London")
    return value


EmailAddress = Annotated[str, AfterValidator(normalise_email)]
Language = Annotated[str, AfterValidator(language_code)]
Timezone = Annotated[str, AfterValidator(_timezone)]


class Strict(BaseModel):
    """Unknown fields are an error: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def parse(model: type[BaseModel], data):
    """Validate `data` into `model`, or raise Invalid listing every field that is wrong."""
    if not isinstance(data, dict):
        raise Invalid("expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Invalid("invalid input", pydantic_details(error)) from None
