"""Cases (Urgent Actions): creating them, reading them, in any of their languages."""
from datetime import date
from typing import Literal

from pydantic import Field, field_validator
from slugify import slugify

from ..clock import days_left, utcnow
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..validation import LONG_TEXT, Language, LongText, Strict, parse, text
from .models import Case, CaseTranslation


class TargetIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    title: text(300) | None = None
    address: LongText | None = None
    salutation: text(300) | None = None


class TranslationIn(Strict):
    title: text(500) | None = None
    summary: LongText | None = None
    model_letter: LongText | None = None
    additional_information: LongText | None = None


class CaseIn(Strict):
    reference: text(50) | None = None
    ai_index: text(50) | None = None
    title: str = Field(min_length=1, max_length=500)
    country: text(100) | None = None
    people: LongText | None = None
    pronoun: text(50) | None = None
    summary: LongText = ""
    target: TargetIn
    target_language: Language | None = None
    model_letter: str = Field(min_length=1, max_length=LONG_TEXT)
    additional_information: LongText | None = None
    deadline: date
    previous_reference: text(300) | None = None
    language: Language = "en"
    high_risk: bool = False
    translations: dict[str, TranslationIn] = Field(default_factory=dict)

    @field_validator("translations")
    @classmethod
    def _language_keys(cls, translations: dict) -> dict:
        for code in translations:
            if not (2 <= len(code) <= 3 and code.isalpha() and code.islower()):
                raise ValueError(f"{code!r} is not an ISO 639-1 language code")
        return translations


def create_case(data: dict, *, status: str = "live", today: date | None = None) -> Case:
    fields = parse(CaseIn, data)
    today = today or utcnow().date()
    if status == "live" and fields.deadline < today:
        raise Invalid("invalid input", [{"field": "deadline", "error": "is in the past"}])
    case = build_case(fields, status)
    db.session.add(case)
    db.session.flush()
    case.slug = _unique_slug(case)
    db.session.commit()
    return case


class TargetEdit(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    title: text(300) | None = None
    address: LongText | None = None
    salutation: text(300) | None = None


class CaseEdit(Strict):
    """Any field of a case; `"status": "live"` publishes a draft."""

    reference: text(50) | None = None
    ai_index: text(50) | None = None
    title: str | None = Field(default=None, min_length=1, max_length=500)
    country: text(100) | None = None
    people: LongText | None = None
    pronoun: text(50) | None = None
    summary: LongText | None = None
    target: TargetEdit | None = None
    target_language: Language | None = None
    model_letter: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)
    additional_information: LongText | None = None
    deadline: date | None = None
    previous_reference: text(300) | None = None
    language: Language | None = None
    high_risk: bool | None = None
    translations: dict[str, TranslationIn] | None = None
    status: Literal["live"] | None = None


def edit_case(case: Case, data: dict, *, today: date | None = None) -> Case:
    """Correct or complete a case; a live case's deadline moves only by a deadline_extended update."""
    fields = parse(CaseEdit, data)
    today = today or utcnow().date()
    if case.status == "closed":
        raise Conflict(f"case {case.id} is closed")
    sent = fields.model_fields_set
    if case.status == "live" and "deadline" in sent and fields.deadline != case.deadline:
        raise Invalid("invalid input", [{"field": "deadline", "error": "extend a live case with a deadline_extended update"}])
    for name in sent - {"target", "translations", "status"}:
        value = getattr(fields, name)
        if value is None and not Case.__table__.c[name].nullable:
            raise Invalid("invalid input", [{"field": name, "error": "cannot be empty"}])
        setattr(case, name, value)
    if fields.target is not None:
        for name in fields.target.model_fields_set:
            if getattr(fields.target, name) is None and not Case.__table__.c[f"target_{name}"].nullable:
                raise Invalid("invalid input", [{"field": f"target.{name}", "error": "cannot be empty"}])
            setattr(case, f"target_{name}", getattr(fields.target, name))
    if fields.translations is not None:
        existing = {t.language: t for t in case.translations}
        for code, text in fields.translations.items():
            translation = existing.get(code) or CaseTranslation(language=code)
            for name in text.model_fields_set:
                setattr(translation, name, getattr(text, name))
            if code not in existing:
                case.translations.append(translation)
    if fields.status == "live" and case.status == "draft":
        if case.deadline < today:
            db.session.rollback()
            raise Invalid("invalid input", [{"field": "deadline", "error": "is in the past: set a new one to publish"}])
        case.status = "live"
    db.session.commit()
    return case


def build_case(fields: CaseIn, status: str) -> Case:
    case = Case(
        status=status,
        slug=f"pending-{utcnow().timestamp()}",
        **fields.model_dump(exclude={"target", "translations"}),
        target_name=fields.target.name,
        target_title=fields.target.title,
        target_address=fields.target.address,
        target_salutation=fields.target.salutation,
    )
    case.translations = [
        CaseTranslation(language=code, **text.model_dump())
        for code, text in fields.translations.items()
        if code != fields.language
    ]
    return case


def _unique_slug(case: Case) -> str:
    base = slugify(f"{case.reference or ''} {case.title}", max_length=80, word_boundary=True)
    base = base or "case"
    taken = db.session.scalar(
        db.select(Case.id).where(Case.slug == base, Case.id != case.id)
    )
    return f"{base}-{case.id}" if taken else base


def get_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def get_case_by_slug(slug: str) -> Case:
    case = db.session.scalar(db.select(Case).where(Case.slug == slug, Case.status != "draft"))
    if case is None:
        raise NotFound("no such case")
    return case


def list_cases() -> list[Case]:
    return list(db.session.scalars(db.select(Case).order_by(Case.id.desc())))


def case_to_dict(case: Case) -> dict:
    return {
        "id": case.id,
        "slug": case.slug,
        "reference": case.reference,
        "ai_index": case.ai_index,
        "title": case.title,
        "country": case.country,
        "people": case.people,
        "pronoun": case.pronoun,
        "summary": case.summary,
        "target": {
            "name": case.target_name,
            "title": case.target_title,
            "address": case.target_address,
            "salutation": case.target_salutation,
        },
        "target_language": case.target_language,
        "model_letter": case.model_letter,
        "additional_information": case.additional_information,
        "deadline": case.deadline.isoformat(),
        "days_left": days_left(case.deadline),
        "previous_reference": case.previous_reference,
        "language": case.language,
        "high_risk": case.high_risk,
        "status": case.status,
        "outcome": case.outcome,
        "translations": {
            t.language: {
                "title": t.title,
                "summary": t.summary,
                "model_letter": t.model_letter,
                "additional_information": t.additional_information,
            }
            for t in case.translations
        },
    }
