from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db

TRANSLATABLE = ("title", "summary", "model_letter", "additional_information")


class Case(db.Model):
    """An Urgent Action: the people at risk, the target, the ask and its deadline."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    reference: Mapped[str | None] = mapped_column(String(50))
    ai_index: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(100))
    people: Mapped[str | None] = mapped_column(Text)
    pronoun: Mapped[str | None] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(Text, default="")
    target_name: Mapped[str] = mapped_column(String(300))
    target_title: Mapped[str | None] = mapped_column(String(300))
    target_address: Mapped[str | None] = mapped_column(Text)
    target_salutation: Mapped[str | None] = mapped_column(String(300))
    target_language: Mapped[str | None] = mapped_column(String(8))
    model_letter: Mapped[str] = mapped_column(Text)
    additional_information: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date]
    previous_reference: Mapped[str | None] = mapped_column(String(300))
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

    def languages(self) -> set[str]:
        return {self.language} | {t.language for t in self.translations}

    def content(self, language: str) -> dict:
        """The translatable text in `language`, each field falling back to the original, with the
        fields the templates show beside it (not translated yet)."""
        original = {field: getattr(self, field) for field in TRANSLATABLE}
        shown = {"pronoun": self.pronoun, "target_title": self.target_title, "target_salutation": self.target_salutation,
                 "people": [name.strip() for name in (self.people or "").split(",") if name.strip()]}
        for translation in self.translations:
            if translation.language == language:
                return {**shown, **{f: getattr(translation, f) or original[f] for f in TRANSLATABLE}}
        return {**shown, **original}


class CaseTranslation(db.Model):
    __tablename__ = "case_translations"
    __table_args__ = (UniqueConstraint("case_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
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
