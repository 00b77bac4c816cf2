"""Supporter lists: adding and updating people, and finding them again."""
from datetime import datetime

from pydantic import Field, ValidationError, field_validator

from ..clock import to_naive_utc, utcnow
from ..errors import Invalid, pydantic_details
from ..extensions import db
from ..offices.models import Office
from ..validation import EmailAddress, Language, Strict
from .models import STATUSES, Supporter, SupporterTag

MAX_PER_PAGE = 500


class SupporterIn(Strict):
    email: EmailAddress
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    language: Language | None = None
    tags: list[str] = Field(default_factory=list)
    consent_source: str | None = Field(default=None, max_length=200)
    consent_at: datetime | None = None

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: list[str]) -> list[str]:
        return sorted({tag.strip() for tag in tags if tag.strip()})


def upsert_supporters(office: Office, rows: list) -> dict:
    """Add or update each row; a bad row is rejected alone and the good ones go in.

    An address already on the list, or earlier in the same batch, updates that supporter.
    New supporters added by staff are `subscribed`: staff vouch for the consent they record.
    """
    rejected, valid = [], []
    for index, row in enumerate(rows):
        email = row.get("email") if isinstance(row, dict) else None
        if not isinstance(row, dict):
            rejected.append({"index": index, "email": None, "error": "expected an object"})
            continue
        try:
            valid.append(SupporterIn.model_validate(row))
        except ValidationError as error:
            problems = "; ".join(f"{d['field']}: {d['error']}" for d in pydantic_details(error))
            rejected.append({"index": index, "email": email, "error": problems})

    existing = _by_email(office, {fields.email for fields in valid})
    created = updated = 0
    now = utcnow()
    for fields in valid:
        supporter = existing.get(fields.email)
        if supporter is None:
            supporter = Supporter(office_id=office.id, email=fields.email, status="subscribed")
            db.session.add(supporter)
            existing[fields.email] = supporter
            created += 1
        else:
            updated += 1
        _apply(supporter, fields, now)
    db.session.commit()
    return {"created": created, "updated": updated, "rejected": rejected}


def _apply(supporter: Supporter, fields: SupporterIn, now: datetime) -> None:
    sent = fields.model_fields_set
    for name in ("first_name", "last_name", "language"):
        if name in sent:
            setattr(supporter, name, getattr(fields, name))
    if "tags" in sent:
        supporter.set_tags(fields.tags)
    if fields.consent_source:
        supporter.consent_source = fields.consent_source
        supporter.consent_at = to_naive_utc(fields.consent_at) if fields.consent_at else now


def _by_email(office: Office, emails: set[str]) -> dict[str, Supporter]:
    found = {}
    emails = sorted(emails)
    for start in range(0, len(emails), 500):  # keep IN lists within SQLite's variable limit
        chunk = emails[start : start + 500]
        query = db.select(Supporter).where(Supporter.office_id == office.id, Supporter.email.in_(chunk))
        found.update((s.email, s) for s in db.session.scalars(query))
    return found


def list_supporters(office: Office, *, status=None, tag=None, q=None, page=1, per_page=50) -> dict:
    if status and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"page starts at 1 and per_page is between 1 and {MAX_PER_PAGE}")
    query = db.select(Supporter).where(Supporter.office_id == office.id)
    if status:
        query = query.where(Supporter.status == status)
    if tag:
        query = query.where(
            db.select(SupporterTag.supporter_id)
            .where(SupporterTag.supporter_id == Supporter.id, SupporterTag.tag == tag)
            .exists()
        )
    if q:
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            db.or_(
                Supporter.email.like(pattern),
                db.func.lower(Supporter.first_name).like(pattern),
                db.func.lower(Supporter.last_name).like(pattern),
            )
        )
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(Supporter.id).offset((page - 1) * per_page).limit(per_page)
    )
    return {
        "items": [s.to_dict() for s in items],
        "page": page,
        "per_page": per_page,
        "total": total,
    }
