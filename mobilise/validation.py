"""Input types shared by the API and the command line."""

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH, LOCAL_PART_MAX_LENGTH
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator

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


# What the checks accept, said in the description too (an AfterValidator shows nothing of itself there).
EmailAddress = Annotated[
    str,
    AfterValidator(normalise_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": EMAIL_MAX_LENGTH}),
]
# The longest text a case's prose field takes: a model letter is a few thousand characters.
LONG_TEXT = 100_000
LongText = Annotated[str, Field(max_length=LONG_TEXT)]


def text(length: int):
    """A string no longer than its column's `length`."""
    return Annotated[str, Field(max_length=length)]


Language = Annotated[
    str,
    AfterValidator(language_code),
    WithJsonSchema({"type": "string", "pattern": "^\\s*[A-Za-z]{2,3}\\s*$", "examples": ["en", "es", "fr"]}),
]
Timezone = Annotated[
    str,
    AfterValidator(_timezone),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$",
            "examples": ["Europe/London", "America/Caracas"],
        }
    ),
]


FIRST_YEAR, LAST_YEAR = 1900, 2999
LARGEST_INTEGER = 2**31 - 1  # an INTEGER column's


def _within_years(value):
    """A date or a moment in years 1900–2999: far enough for any case, near enough for every calendar sum."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR}–{LAST_YEAR}")
    if isinstance(value, datetime) and value.tzinfo is not None:
        value.astimezone(UTC)  # in range on both sides of the offset, so never an OverflowError
    return value


def _problem(value) -> str | None:
    """What no column of ours can hold, anywhere inside a field's value."""
    if value is None:  # the common cases first: every field of every row of an import comes here
        return None
    if type(value) is str:
        return "must not contain a NUL character" if "\x00" in value else None
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "must not contain a NUL character"
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if abs(item) > LARGEST_INTEGER:
                return "is out of range"
        elif isinstance(item, (date, datetime)):
            try:
                _within_years(item)
            except (ValueError, OverflowError) as error:
                return str(error) if isinstance(error, ValueError) else f"must be in the years {FIRST_YEAR}–{LAST_YEAR}"
        elif isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            todo.extend(item)
    return None


class Strict(BaseModel):
    """Unknown fields are an error: a typo must not be silently dropped.

    Every model of ours refuses, in any field, what no column can hold: a NUL character, an integer past
    an INTEGER's range, a date outside years 1900–2999. A model with narrower bounds says so on its field.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value):
        if (problem := _problem(value)) is not None:
            raise ValueError(problem)
        return value


def parse(model: type[BaseModel], data):
    """Validate `data` into `model`, or raise Invalid listing every field that is wrong."""
    if not isinstance(data, dict):
        raise Invalid("expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Invalid("invalid input", pydantic_details(error)) from None
