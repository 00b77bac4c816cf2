"""Supporter lists: adding and updating people (finding them again is listing.py)."""

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field, ValidationError, field_validator

from ..audit.service import record
from ..clock import to_naive_utc, utcnow
from ..errors import pydantic_details
from ..extensions import db
from ..offices.models import Office
from ..validation import EmailAddress, Language, Strict, text
from .models import search_text_of
from .staging import write_batch


class SupporterIn(Strict):
    email: EmailAddress
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    language: Language | None = None
    tags: list[text(100)] = Field(default_factory=list, max_length=200)
    consent_source: str | None = Field(default=None, max_length=200)
    consent_at: datetime | None = None

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: list[str]) -> list[str]:
        return sorted({tag.strip() for tag in tags if tag.strip()})


@dataclass
class Prepared:
    """A batch checked and ready to write: one row per address, its tags, and what was rejected."""

    rows: list[dict]
    tags: list[tuple[int, str]]  # (the row's "n", tag)
    rejected: list[dict]
    valid: int  # good rows, an address repeated in the batch counted each time

    def split(self, parts: int) -> list["Prepared"]:
        """`parts` batches, each address always in the same one (its hash's), for writers working side by side."""
        if parts == 1:
            return [self]
        split = [Prepared([], [], [], 0) for _ in range(parts)]
        part_of = {}
        for row in self.rows:
            part = split[part_of.setdefault(row["n"], hash(row["email"]) % parts)]
            part.rows.append(row)
            part.valid += row["repeats"]
        for n, tag in self.tags:
            split[part_of[n]].tags.append((n, tag))
        split[0].rejected = self.rejected
        return split


def upsert_supporters(office: Office, rows: list, *, source: str = "api") -> dict:
    """Add or update each row; a bad row is rejected alone and the good ones go in.

    An address already on the list, or earlier in the same batch, updates that supporter (what the
    later row carries wins, the rest stays). New supporters added by staff are `subscribed`: staff vouch for the consent
    they record, and it goes into the history as `given` (its `consent_source`, else `source`).
    Nobody who unsubscribed, bounced or complained is subscribed again by an import: their
    consent fields are left as they are.
    """
    return write_supporters(office.id, prepare_supporters(rows), source=source, audited=True)


def prepare_supporters(rows: list) -> Prepared:
    """Check each row and merge repeated addresses; no database work, so an import can do it while the
    previous batch is being written."""
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
        earlier, repeats = latest.pop(fields.email, (None, 0))
        if earlier is not None:  # the same address again: what the later row carries wins, the rest stays
            fields = earlier.model_copy(update={name: getattr(fields, name) for name in fields.model_fields_set})
        latest[fields.email] = fields, repeats + 1
        valid += 1

    staged, tags = [], []
    for n, (fields, repeats) in enumerate(latest.values()):
        carried = fields.model_fields_set
        staged.append(
            {
                "n": n,
                "repeats": repeats,
                "email": fields.email,
                "first_name": fields.first_name,
                "last_name": fields.last_name,
                "language": fields.language,
                "search_text": search_text_of(fields.first_name, fields.last_name, fields.email),
                "consent_source": fields.consent_source or None,
                "consent_at": to_naive_utc(fields.consent_at) if fields.consent_at else None,
                "set_first_name": "first_name" in carried,
                "set_last_name": "last_name" in carried,
                "set_language": "language" in carried,
                "set_tags": "tags" in carried,
            }
        )
        tags += [(n, tag) for tag in fields.tags]
    return Prepared(staged, tags, rejected, valid)


def write_supporters(office_id: int, batch: Prepared, *, source: str, audited: bool = False) -> dict:
    """Write a prepared batch in one transaction; `audited`, with its entry in the audit trail (an import's
    batches are not: the import has one entry for the whole file)."""
    now = utcnow()
    for row in batch.rows:
        row["consent_at"] = row["consent_at"] or now
    created = write_batch(office_id, batch.rows, batch.tags, source, now) if batch.rows else 0
    # A row repeating an address earlier in the batch counts as an update of it, as it would in another batch.
    counts = {"created": created, "updated": batch.valid - created, "rejected": batch.rejected}
    if audited:  # counts only: the rows are personal data
        record(
            "supporters.added",
            office=office_id,
            details={"created": created, "updated": counts["updated"], "rejected": len(batch.rejected)},
        )
    db.session.commit()
    return counts
