"""Country offices: adding them and finding them."""
from pydantic import Field, field_validator

from ..errors import Conflict, NotFound
from ..extensions import db
from ..validation import EmailAddress, Language, Strict, Timezone, parse
from .models import Office


class OfficeIn(Strict):
    code: str = Field(pattern=r"^[A-Za-z]{2}$")
    name: str = Field(min_length=1, max_length=200)
    language: Language
    timezone: Timezone
    sender: EmailAddress
    sender_name: str | None = None
    reply_to: EmailAddress | None = None
    address: str = ""
    send_hour: int = Field(default=10, ge=0, le=23)
    reminder_days: list[int] = Field(default_factory=lambda: [7, 2])

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
    )
    db.session.add(office)
    db.session.commit()
    return office


def get_office(code: str) -> Office:
    office = db.session.scalar(db.select(Office).where(Office.code == code.upper()))
    if office is None:
        raise NotFound(f"no office {code.upper()}")
    return office


def list_offices() -> list[Office]:
    return list(db.session.scalars(db.select(Office).order_by(Office.code)))
