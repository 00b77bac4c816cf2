"""Cases (Urgent Actions): creating them, reading them, in any of their languages."""

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from slugify import slugify

from ..audit.service import record
from ..clock import days_left, utcnow
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..languages import UI_LANGUAGES
from ..offices.themes import Themes
from ..validation import LONG_TEXT, EmailAddress, Language, LongText, Strict, parse, text
from .models import Case, CaseTranslation


def _names(value):
    """A single string is one name; blank names are dropped, so `people` is always a list."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        # Anything not a string is left for the type check to refuse.
        return [
            name.strip() if isinstance(name, str) else name
            for name in value
            if not isinstance(name, str) or name.strip()
        ]
    return value


def _written_language(code: str) -> str:
    """A case's own language is one we write emails and pages in: its readers who fall back read it, whole."""
    if code not in UI_LANGUAGES:
        raise ValueError(f"must be one of {', '.join(UI_LANGUAGES)} (other languages can be translations)")
    return code


# The language a case is written in.
CaseLanguage = Annotated[Language, AfterValidator(_written_language)]

NAME = {"type": "string", "maxLength": 1000}
# The people a case concerns, each named as written (names are never translated).
People = Annotated[
    list[text(1000)],
    BeforeValidator(_names),
    Field(max_length=500),
    WithJsonSchema({"anyOf": [NAME, {"type": "array", "items": NAME, "maxItems": 500}, {"type": "null"}]}),
]


class TargetIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    title: text(300) | None = None
    address: LongText | None = None
    salutation: text(300) | None = None
    email: EmailAddress | None = None


class TranslatedTarget(Strict):
    """What of the target a translation says: the title and the salutation (the name and address stay)."""

    title: text(300) | None = None
    salutation: text(300) | None = None


class TranslationIn(Strict):
    title: text(500) | None = None
    summary: LongText | None = None
    pronoun: text(50) | None = None
    target: TranslatedTarget | None = None
    model_letter: LongText | None = None
    additional_information: LongText | None = None

    def columns(self) -> dict:
        """The fields given, as CaseTranslation's columns (the target's as target_title, target_salutation)."""
        given = {name: getattr(self, name) for name in self.model_fields_set - {"target"}}
        if self.target is not None:
            given |= {f"target_{name}": getattr(self.target, name) for name in self.target.model_fields_set}
        return given


class CaseIn(Strict):
    reference: text(50) | None = None
    ai_index: text(50) | None = None
    title: str = Field(min_length=1, max_length=500)
    country: text(100) | None = None
    people: People = Field(default_factory=list)
    pronoun: text(50) | None = None
    summary: LongText = ""
    target: TargetIn
    target_language: Language | None = None
    model_letter: str = Field(min_length=1, max_length=LONG_TEXT)
    additional_information: LongText | None = None
    deadline: date
    previous_reference: text(300) | None = None
    themes: Themes = Field(default_factory=list)
    language: CaseLanguage = "en"
    high_risk: bool = False
    translations: dict[Language, TranslationIn] = Field(default_factory=dict)


def create_case(data: dict, *, status: str = "live", today: date | None = None) -> Case:
    fields = parse(CaseIn, data)
    today = today or utcnow().date()
    if status == "live" and fields.deadline < today:
        raise Invalid("invalid input", [{"field": "deadline", "error": "is in the past"}])
    case = build_case(fields, status)
    db.session.add(case)
    db.session.flush()
    case.slug = _unique_slug(case)
    # A draft is what reading a UA document makes (POST /cases/import); a live case is made whole.
    record(
        "case.created" if status == "live" else "case.imported",
        subject=f"case {case.id}",
        details={"reference": case.reference, "status": status},
    )
    db.session.commit()
    return case


class TargetEdit(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    title: text(300) | None = None
    address: LongText | None = None
    salutation: text(300) | None = None
    email: EmailAddress | None = None


class CaseEdit(Strict):
    """Any field of a case; `"status": "live"` publishes a draft."""

    reference: text(50) | None = None
    ai_index: text(50) | None = None
    title: str | None = Field(default=None, min_length=1, max_length=500)
    country: text(100) | None = None
    people: People = Field(default_factory=list)
    pronoun: text(50) | None = None
    summary: LongText | None = None
    target: TargetEdit | None = None
    target_language: Language | None = None
    model_letter: str | None = Field(default=None, min_length=1, max_length=LONG_TEXT)
    additional_information: LongText | None = None
    deadline: date | None = None
    previous_reference: text(300) | None = None
    themes: Themes | None = None
    language: CaseLanguage | None = None
    high_risk: bool | None = None
    translations: dict[Language, TranslationIn | None] | None = None
    status: Literal["live"] | None = None


def edit_case(case: Case, data: dict, *, today: date | None = None) -> Case:
    """Correct or complete a case; a live case's deadline moves only by a deadline_extended update."""
    fields = parse(CaseEdit, data)
    today = today or utcnow().date()
    if case.status == "closed":
        raise Conflict(f"case {case.id} is closed")
    sent = fields.model_fields_set
    if "language" in sent and fields.language != case.language and case.translation(fields.language):
        raise Invalid(
            "invalid input",
            [
                {
                    "field": "language",
                    "error": f"the case has a {fields.language} translation: "
                    "remove it first, or keep the case's language",
                }
            ],
        )
    if case.status == "live" and "deadline" in sent and fields.deadline != case.deadline:
        raise Invalid(
            "invalid input", [{"field": "deadline", "error": "extend a live case with a deadline_extended update"}]
        )
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
        translate(case, fields.translations)
    if fields.status == "live" and case.status == "draft":
        if case.deadline < today:
            db.session.rollback()
            raise Invalid("invalid input", [{"field": "deadline", "error": "is in the past: set a new one to publish"}])
        case.status = "live"
    changed = {"fields": sorted(sent), "reference": case.reference}
    if fields.translations is not None:
        changed["translations"] = sorted(fields.translations)
    record("case.edited", subject=f"case {case.id}", details=changed)
    db.session.commit()
    return case


def translate(case: Case, translations: dict[str, "TranslationIn | None"]) -> None:
    """Add or correct translations field by field; `null` for a language removes its translation."""
    existing = {t.language: t for t in case.translations}
    for code, given in translations.items():
        if code == case.language:
            raise Invalid("invalid input", [{"field": f"translations.{code}", "error": "is the case's own language"}])
        if given is None:
            if code in existing:
                case.translations.remove(existing[code])
            continue
        translation = existing.get(code)
        if translation is None:
            translation = CaseTranslation(language=code)
            case.translations.append(translation)
        for name, value in given.columns().items():
            setattr(translation, name, value.strip() if isinstance(value, str) and value.strip() else None)


def build_case(fields: CaseIn, status: str) -> Case:
    case = Case(
        status=status,
        slug=f"pending-{utcnow().timestamp()}",
        **fields.model_dump(exclude={"target", "translations"}),
        **{f"target_{name}": value for name, value in fields.target.model_dump().items()},
    )
    if fields.language in fields.translations:
        raise Invalid(
            "invalid input", [{"field": f"translations.{fields.language}", "error": "is the case's own language"}]
        )
    case.translations = []
    translate(case, fields.translations)
    return case


def _unique_slug(case: Case) -> str:
    base = slugify(f"{case.reference or ''} {case.title}", max_length=80, word_boundary=True)
    base = base or "case"
    taken = db.session.scalar(db.select(Case.id).where(Case.slug == base, Case.id != case.id))
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
        "region": case.region,
        "themes": list(case.themes or []),
        "people": case.people,
        "pronoun": case.pronoun,
        "summary": case.summary,
        "target": {
            "name": case.target_name,
            "title": case.target_title,
            "address": case.target_address,
            "salutation": case.target_salutation,
            "email": case.target_email,
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
        "translations": {t.language: translation_to_dict(t) for t in case.translations},
        # The languages the case reads whole in, and what each other translation still lacks.
        "languages": sorted(case.languages()),
        "missing": {
            t.language: [api_name(field) for field in case.missing(t.language)]
            for t in case.translations
            if case.missing(t.language)
        },
    }


def api_name(field: str) -> str:
    """A column's name as the API spells it: target_title is target.title."""
    return f"target.{field.removeprefix('target_')}" if field.startswith("target_") else field


def translation_to_dict(translation: CaseTranslation) -> dict:
    return {
        "title": translation.title,
        "summary": translation.summary,
        "pronoun": translation.pronoun,
        "target": {"title": translation.target_title, "salutation": translation.target_salutation},
        "model_letter": translation.model_letter,
        "additional_information": translation.additional_information,
    }
