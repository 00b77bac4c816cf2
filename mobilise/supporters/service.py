"""Supporter lists: adding and updating people, and finding them again."""
from datetime import datetime

from pydantic import Field, ValidationError, field_validator

from ..clock import to_naive_utc, utcnow
from ..errors import Invalid, pydantic_details
from ..extensions import db
from ..offices.models import Office
from ..validation import EmailAddress, Language, Strict
from .models import STATUSES, ConsentChange, Supporter, SupporterTag

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


def upsert_supporters(office: Office, rows: list, *, source: str = "api") -> dict:
    """Add or update each row; a bad row is rejected alone and the good ones go in.

    An address already on the list, or earlier in the same batch, updates that supporter (what the
    later row carries wins, the rest stays). New supporters added by staff are `subscribed`: staff vouch for the consent
    they record, and it goes into the history as `given` (its `consent_source`, else `source`).
    Nobody who unsubscribed, bounced or complained is subscribed again by an import: their
    consent fields are left as they are. Written set by set, not row by row: an import of a
    million rows calls this a thousand times.
    """
    rejected, latest, valid = [], {}, 0
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            rejected.append({"index": index, "email": None, "error": "expected an object"})
            continue
        try:
            fields = SupporterIn.model_validate(row)
        except ValidationError as error:
            problems = "; ".join(f"{d['field']}: {d['error']}" for d in pydantic_details(error))
            rejected.append({"index": index, "email": row.get("email"), "error": problems})
            continue
        earlier = latest.pop(fields.email, None)
        if earlier is not None:  # the same address again: what the later row carries wins, the rest stays
            fields = earlier.model_copy(update={name: getattr(fields, name) for name in fields.model_fields_set})
        latest[fields.email] = fields
        valid += 1

    existing = _ids_by_email(office, set(latest))
    now = utcnow()
    new = [fields for email, fields in latest.items() if email not in existing]
    # (id, fields, a fresh consent?) for those already on the list: only someone still subscribed can give one.
    known = [(existing[email][0], fields, bool(fields.consent_source) and existing[email][1] == "subscribed")
             for email, fields in latest.items() if email in existing]
    created_ids = _insert_new(office, new, now)
    _update_existing(known, now)
    _write_tags([(created_ids[f.email], f.tags) for f in new if f.tags])
    consents = [(created_ids[f.email], f.consent_source or source, _consent_at(f, now)) for f in new]
    consents += [(supporter_id, f.consent_source, _consent_at(f, now)) for supporter_id, f, consented in known if consented]
    if consents:
        db.session.execute(
            db.insert(ConsentChange),
            [{"supporter_id": sid, "change": "given", "source": src[:200], "at": at} for sid, src, at in consents],
        )
    db.session.commit()
    # A row repeating an address earlier in the batch counts as an update of it, as it would in another batch.
    return {"created": len(new), "updated": valid - len(new), "rejected": rejected}


def _consent_at(fields: SupporterIn, now: datetime) -> datetime:
    return to_naive_utc(fields.consent_at) if fields.consent_at else now


def _insert_new(office: Office, new: list[SupporterIn], now: datetime) -> dict[str, int]:
    if not new:
        return {}
    rows = [
        {
            "office_id": office.id, "email": f.email, "first_name": f.first_name, "last_name": f.last_name,
            "language": f.language, "status": "subscribed", "consent_source": f.consent_source,
            "consent_at": _consent_at(f, now) if f.consent_source else None, "status_changed_at": now, "created_at": now,
        }
        for f in new
    ]
    inserted = db.session.execute(
        db.insert(Supporter.__table__).returning(Supporter.id, Supporter.email, sort_by_parameter_order=True), rows
    )
    return {email: supporter_id for supporter_id, email in inserted}


def _update_existing(known: list[tuple[int, SupporterIn, bool]], now: datetime) -> None:
    """Only the fields a row carries change; rows carrying the same fields are one executemany."""
    groups: dict[tuple, list[dict]] = {}
    retag = []
    for supporter_id, fields, consented in known:
        sent = fields.model_fields_set
        values = {name: getattr(fields, name) for name in ("first_name", "last_name", "language") if name in sent}
        if consented:
            values.update(consent_source=fields.consent_source, consent_at=_consent_at(fields, now))
        if "tags" in sent:
            retag.append((supporter_id, fields.tags))
        if values:
            groups.setdefault(tuple(sorted(values)), []).append({"supporter_id": supporter_id, **values})
    table = Supporter.__table__
    for names, params in groups.items():
        statement = (
            db.update(table)
            .where(table.c.id == db.bindparam("supporter_id"))
            .values({name: db.bindparam(name) for name in names})
        )
        db.session.execute(statement, params)
    if retag:
        ids = [supporter_id for supporter_id, _ in retag]
        for start in range(0, len(ids), 500):
            db.session.execute(db.delete(SupporterTag).where(SupporterTag.supporter_id.in_(ids[start:start + 500])))
        _write_tags(retag)


def _write_tags(tags: list[tuple[int, list[str]]]) -> None:
    rows = [{"supporter_id": supporter_id, "tag": tag} for supporter_id, names in tags for tag in names]
    if rows:
        db.session.execute(db.insert(SupporterTag), rows)


def _ids_by_email(office: Office, emails: set[str]) -> dict[str, tuple[int, str]]:
    """(id, status) of the supporters of `office` with these addresses."""
    found = {}
    emails = sorted(emails)
    for start in range(0, len(emails), 500):  # keep IN lists within SQLite's variable limit
        chunk = emails[start : start + 500]
        query = db.select(Supporter.email, Supporter.id, Supporter.status).where(
            Supporter.office_id == office.id, Supporter.email.in_(chunk)
        )
        found.update((email, (supporter_id, status)) for email, supporter_id, status in db.session.execute(query))
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
