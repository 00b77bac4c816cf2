"""Input types shared by the API and the command line."""
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from .errors import Invalid, pydantic_details


def normalise_email(value: str) -> str:
    """Trimmed, checked (syntax only, no DNS) and lower-cased: the contract compares addresses so."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
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
