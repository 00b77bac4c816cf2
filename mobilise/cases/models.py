from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .regions import region_of

# Every text of a case a reader reads in their language. Names (people, target, address) are never translated.
TRANSLATABLE = (
    "title",
    "summary",
    "pronoun",
    "target_title",
    "target_salutation",
    "model_letter",
    "additional_information",
)


class Case(db.Model):
    """An Urgent Action: the people at risk, the target, the ask and its deadline."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    reference: Mapped[str | None] = mapped_column(String(50))
    ai_index: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(100))
    people: Mapped[list[str]] = mapped_column(JSON, default=list)  # names, never translated
    pronoun: Mapped[str | None] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(Text, default="")
    target_name: Mapped[str] = mapped_column(String(300))
    target_title: Mapped[str | None] = mapped_column(String(300))
    target_address: Mapped[str | None] = mapped_column(Text)
    target_salutation: Mapped[str | None] = mapped_column(String(300))
    target_email: Mapped[str | None] = mapped_column(String(320))
    target_language: Mapped[str | None] = mapped_column(String(8))
    model_letter: Mapped[str] = mapped_column(Text)
    additional_information: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date]
    previous_reference: Mapped[str | None] = mapped_column(String(300))
    # What supporters who chose some themes get this case by (offices/themes.py).
    themes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    language: Mapped[str] = mapped_column(String(8), default="en")
    # A high-risk case is sent with no open pixel and no wrapped links.
    high_risk: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    outcome: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    translations: Mapped[list["CaseTranslation"]] = relationship(
        cascade="all, delete-orphan", order_by="CaseTranslation.language"
    )

    @property
    def region(self) -> str | None:
        """Read from the country, never written: a corrected country corrects it."""
        return region_of(self.country)

    def languages(self) -> set[str]:
        """The languages the case can be read in whole: its own, and each translation that lacks nothing."""
        return {self.language} | {t.language for t in self.translations if not self.missing(t.language)}

    def missing(self, language: str) -> list[str]:
        """The fields the original has and its `language` translation lacks (all of them with no translation).
        A translation with a gap is not used at all: a reader never meets another language mid-page."""
        if language == self.language:
            return []
        translation = self.translation(language)
        return [
            field
            for field in TRANSLATABLE
            if (getattr(self, field) or "").strip()
            and not (translation and (getattr(translation, field) or "").strip())
        ]

    def translation(self, language: str) -> "CaseTranslation | None":
        return next((t for t in self.translations if t.language == language), None)

    def content(self, language: str) -> dict:
        """Every text of the case in `language` when it can be read whole in it, else in its own language."""
        source = self.translation(language) if language in self.languages() and language != self.language else self
        content = {field: getattr(source, field) for field in TRANSLATABLE}
        content["language"] = language if source is not self else self.language
        content["people"] = list(self.people or [])
        return content


class CaseTranslation(db.Model):
    __tablename__ = "case_translations"
    __table_args__ = (UniqueConstraint("case_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
    pronoun: Mapped[str | None] = mapped_column(String(50))
    target_title: Mapped[str | None] = mapped_column(String(300))
    target_salutation: Mapped[str | None] = mapped_column(String(300))
    model_letter: Mapped[str | None] = mapped_column(Text)
    additional_information: Mapped[str | None] = mapped_column(Text)


class Action(db.Model):
    """A supporter confirming they sent the appeal: at most one per supporter and case."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("supporter_id", "case_id"),
        Index("ix_actions_case_office", "case_id", "office_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    source: Mapped[str] = mapped_column(String(16), default="email")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
