from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, event, inspect, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..clock import iso, utcnow
from ..extensions import db
from ..languages import fold

STATUSES = ("pending", "subscribed", "unsubscribed", "bounced", "complained")


class Supporter(db.Model):
    """A person on one office's list. The same address in two offices is two supporters."""

    __tablename__ = "supporters"
    __table_args__ = (
        UniqueConstraint("office_id", "email"),
        # A bounce, complaint or unsubscribe reported by address (a provider's event without our tags, the bounce
        # API by email) finds that address in every office: the unique key above cannot serve it.
        Index("ix_supporters_email", "email"),
        # An audience's count by language (the launch page), a status's count and the suppression list, read from
        # the index alone on PostgreSQL (with the id, for the audience rules' joins). It leads with the status:
        # an index leading with office_id alone is one the planner can take for the importer's (office_id, email)
        # lookup while its statistics lag behind a big import (see office_id below).
        Index("ix_supporters_status_office", "status", "office_id", "language", postgresql_include=["id"]),
        # A search finds a term anywhere in the text, which PostgreSQL's trigram index serves (pg_trgm). SQLite
        # has none: there a search reads the office's rows.
        Index(
            "ix_supporters_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (office_id, email) index leads with it, and a second one on office_id
    # alone drew PostgreSQL's planner away from the unique one while a big import outran its statistics.
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    # Trimmed and lower-cased on the way in, so equality is the contract's comparison. None once erased.
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="subscribed")
    consent_source: Mapped[str | None] = mapped_column(String(200))
    consent_at: Mapped[datetime | None]
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the personal data was erased: the row stays, nameless, so the counts keep their numbers.
    erased_at: Mapped[datetime | None]
    # The name and address as a search compares them (search_text_of), so one LIKE ignores accents and case on
    # both databases (its index is above). None once erased: nothing left to find.
    search_text: Mapped[str | None] = mapped_column(Text)

    office = relationship("Office")
    tag_rows: Mapped[list["SupporterTag"]] = relationship(cascade="all, delete-orphan", order_by="SupporterTag.tag")

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "language": self.language,
            "status": self.status,
            "tags": self.tags,
            "consent_source": self.consent_source,
            "consent_at": self.consent_at.isoformat() + "Z" if self.consent_at else None,
        }


def search_text_of(first_name: str | None, last_name: str | None, email: str | None) -> str | None:
    """What a search of the list looks in: the folded full name, then the folded address on a line of its own
    (so "rocio garcia" finds Rocío García, and a term never runs from the name into the address)."""
    name = " ".join(part for part in (fold(first_name or ""), fold(last_name or "")) if part)
    return "\n".join(part for part in (name, fold(email or "")) if part) or None


@event.listens_for(Session, "before_flush")
def _keep_search_text(session, flush_context, instances) -> None:
    # Every supporter the ORM writes (a sign-up, its confirmation, an erasure) gets its search text here; the
    # bulk writes of staging.py bypass the ORM and compute it themselves with search_text_of.
    # A supporter whose status alone changed keeps the text it has (and is not reloaded to remake it).
    for supporter in (*session.new, *session.dirty):
        if isinstance(supporter, Supporter) and (supporter in session.new or _searched_fields_changed(supporter)):
            supporter.search_text = search_text_of(supporter.first_name, supporter.last_name, supporter.email)


def _searched_fields_changed(supporter: Supporter) -> bool:
    attributes = inspect(supporter).attrs
    return any(attributes[name].history.has_changes() for name in ("first_name", "last_name", "email"))


CHANGES = ("given", "requested", "confirmed", "withdrawn", "bounced", "complained", "erased", "preferences")


class ConsentChange(db.Model):
    """One step in a supporter's consent: when, how (`source`) and from where (a /24 or /48 network).

    given: added by staff (API, import) who vouch for the consent; requested/confirmed: the two steps of a
    public sign-up; withdrawn: unsubscribed; bounced/complained: mail stopped by the relay's report;
    erased: the personal data was removed (the only row left after an erasure); preferences: they changed
    what they get on their preference page (`profile` holds what changed to what).
    """

    __tablename__ = "consent_changes"
    # The sign-up requests whose confirmation email is not done yet, which the tick reads each minute.
    __table_args__ = (
        Index(
            "ix_consent_changes_unemailed",
            "at",
            postgresql_where=text("change = 'requested' AND emailed_at IS NULL"),
            sqlite_where=text("change = 'requested' AND emailed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id", ondelete="CASCADE"), index=True)
    change: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(200))
    network: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # For a sign-up request: when its confirmation email was done with (accepted, or refused for good by the
    # relay). Until then the tick hands it to a worker again.
    emailed_at: Mapped[datetime | None]
    # For a sign-up request: the name and language it asked for, applied only once confirmed, so that a
    # stranger's request changes nothing about the person. For a preferences change: what changed, to what.
    # Deleted with the rest at an erasure.
    profile: Mapped[dict | None] = mapped_column(JSON)

    def to_dict(self) -> dict:
        found = {"change": self.change, "source": self.source, "network": self.network, "at": iso(self.at)}
        if self.change == "preferences":
            found["preferences"] = self.profile
        return found


class Bounce(db.Model):
    """A relay's report that an email bounced or was marked as spam."""

    __tablename__ = "bounces"

    id: Mapped[int] = mapped_column(primary_key=True)
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    # The delivery's mailing, kept here so that a mailing's guard rails count its bounces by an index.
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # hard, soft, complaint
    # Who told: relay (a refusal at RCPT), api, inbound, ses, sendgrid, mailgun, postmark.
    source: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def to_dict(self) -> dict:
        return {
            "type": self.kind,
            "detail": self.detail,
            "delivery": self.delivery_id,
            "source": self.source,
            "at": iso(self.created_at),
        }


class SupporterTag(db.Model):
    """Tags as rows, so an audience's tag filter is an indexed EXISTS on both databases."""

    __tablename__ = "supporter_tags"

    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id", ondelete="CASCADE"), primary_key=True)
    # Tag filters are per supporter (EXISTS … supporter_id = …), which the primary key serves; a second
    # index would only slow a million-row import.
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class Import(db.Model):
    """A CSV import of supporters into one office: its progress while it runs, its result after."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, done, failed
    total_bytes: Mapped[int] = mapped_column(default=0)
    done_bytes: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "filename": self.filename,
            "progress": round(self.done_bytes / self.total_bytes, 3)
            if self.total_bytes
            else (1.0 if self.status == "done" else 0.0),
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "errors": self.errors,
            "failure": self.failure,
        }


class ImportPart(db.Model):
    """A piece of an uploaded CSV, waiting in the database for the worker that imports it: the web that took
    the upload and the worker that reads it may be on different hosts, with no disk in common. Deleted when
    the import ends (and by the tick, past IMPORT_RETENTION_DAYS, should it not end)."""

    __tablename__ = "import_parts"

    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class VisitorAction(db.Model):
    """A visitor of the public case page asking to act on a case for an office, and whether they confirmed.

    The address is kept only until the link is followed (or the request expires): the confirming step needs it to
    find or add the supporter. The keyed digest stays, so the throttle and "counted once" need no address.
    `counted_digest` is set only on a confirmed action counted as the visitor's own (no supporter behind it), and
    its unique key is what lets a second confirmation of the same person, however it races, count nothing.
    """

    __tablename__ = "visitor_actions"
    __table_args__ = (
        UniqueConstraint("case_id", "office_id", "counted_digest"),
        Index("ix_visitor_actions_digest_requested", "email_digest", "requested_at"),
        # The requests whose email is not done yet, which the tick reads each minute.
        Index(
            "ix_visitor_actions_unemailed",
            "requested_at",
            postgresql_where=text("emailed_at IS NULL"),
            sqlite_where=text("emailed_at IS NULL"),
        ),
        # The requests still holding an address, which the tick forgets once they can no longer be confirmed.
        Index(
            "ix_visitor_actions_addressed",
            "requested_at",
            postgresql_where=text("email IS NOT NULL"),
            sqlite_where=text("email IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    email: Mapped[str | None] = mapped_column(String(320))  # None once confirmed or expired
    email_digest: Mapped[str] = mapped_column(String(64))
    counted_digest: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(200), default="")  # kept only for a visitor who asked to join
    wants_to_join: Mapped[bool] = mapped_column(default=False)  # ticked "keep me informed"
    language: Mapped[str | None] = mapped_column(String(8))  # the page's, for the email and the link's page
    network: Mapped[str | None] = mapped_column(String(64))  # /24 or /48, never the whole address
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
