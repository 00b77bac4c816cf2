"""Writing a batch of validated supporters as a few set-based statements, through a staging table.

The batch goes into a temporary table (PostgreSQL's COPY, or one executemany on SQLite), and a few
statements then do for all its rows what a loop would do row by row: find who is on the list already,
update them, add the others, record consent, replace tags. Each batch is one transaction: an import
killed half-way leaves whole batches, and running it again updates rather than duplicates.
"""

from datetime import datetime
from operator import itemgetter

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text
from sqlalchemy.schema import CreateTable

from ..extensions import db
from .models import ConsentChange, Supporter, SupporterTag, search_text_of

# Not in the app's metadata: temporary tables live for one connection and have no migration.
_metadata = MetaData()
staged = Table(
    "supporter_staging",
    _metadata,
    Column("n", Integer),  # position in the batch: new supporters get ids in the file's order
    Column("email", String(320)),
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    Column("language", String(8)),
    Column("consent_source", String(200)),
    Column("consent_at", DateTime),
    # search_text_of the row's address and names, made as the batch is prepared (a supporter on the list whose
    # row leaves a name out has it remade once updated: _complete_search_text).
    Column("search_text", Text),
    # Which fields the row carries: a field it leaves out keeps what the list holds.
    Column("set_first_name", Boolean),
    Column("set_last_name", Boolean),
    Column("set_language", Boolean),
    Column("set_tags", Boolean),
    Column("supporter_id", Integer),
    Column("status", String(16)),
    Column("is_new", Boolean, server_default=db.false()),
    prefixes=["TEMPORARY"],
    # PostgreSQL empties it at each commit (a TRUNCATE, so no dead rows pile up in a table autovacuum
    # never visits); SQLite's is emptied by the DELETE that starts each batch.
    postgresql_on_commit="DELETE ROWS",
)
staged_tags = Table(
    "supporter_staging_tags",
    _metadata,
    Column("n", Integer),
    Column("tag", String(100)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)
# One lookup per row by the unique (office_id, email) index, written so that no planner can choose to read
# the whole list instead (PostgreSQL's did, once a growing import had outrun its statistics).
_FIND_ON_LIST = db.text(
    "UPDATE supporter_staging SET (supporter_id, status) ="
    " (SELECT id, status FROM supporters WHERE office_id = :office_id AND email = supporter_staging.email)"
)
# What a batch brings; the rest the statements below fill in.
_ROW_COLUMNS = [c.name for c in staged.columns if c.name not in ("supporter_id", "status", "is_new")]
# Binary COPY needs each column's type named.
_COPY_TYPES = {Integer: "int4", String: "varchar", Text: "text", DateTime: "timestamp", Boolean: "bool"}
_ROW_TYPES = [_COPY_TYPES[type(staged.c[name].type)] for name in _ROW_COLUMNS]
_row_values = itemgetter(*_ROW_COLUMNS)


def write_batch(office_id: int, rows: list[dict], tags: list[tuple[int, str]], source: str, now: datetime) -> int:
    """Add or update `rows` (one per address, each with the _ROW_COLUMNS) and their tags; returns how many were new."""
    for table in (staged, staged_tags):
        db.session.execute(CreateTable(table, if_not_exists=True))
        db.session.execute(table.delete())
    _load(rows, tags)
    s, tag_table = Supporter.__table__, SupporterTag.__table__
    db.session.execute(_FIND_ON_LIST, {"office_id": office_id})

    # Only someone still subscribed can give a fresh consent: an import never subscribes again someone
    # who unsubscribed, bounced or complained.
    consented = db.and_(staged.c.consent_source.is_not(None), staged.c.status == "subscribed")
    db.session.execute(
        s.update()
        .where(s.c.id == staged.c.supporter_id)
        .values(
            first_name=db.case((staged.c.set_first_name, staged.c.first_name), else_=s.c.first_name),
            last_name=db.case((staged.c.set_last_name, staged.c.last_name), else_=s.c.last_name),
            language=db.case((staged.c.set_language, staged.c.language), else_=s.c.language),
            search_text=staged.c.search_text,
            consent_source=db.case((consented, staged.c.consent_source), else_=s.c.consent_source),
            consent_at=db.case((consented, staged.c.consent_at), else_=s.c.consent_at),
        )
    )
    _complete_search_text()
    created = _add_new(office_id, now)

    # New supporters' consent was given by the staff who added them (the row's source, else `source`).
    given = (
        db.select(
            staged.c.supporter_id,
            db.literal("given"),
            db.func.coalesce(staged.c.consent_source, source[:200]),
            staged.c.consent_at,
        )
        .where(db.or_(staged.c.is_new, consented))
        .order_by(staged.c.n)
    )
    db.session.execute(ConsentChange.__table__.insert().from_select(["supporter_id", "change", "source", "at"], given))

    retagged = db.select(staged.c.supporter_id).where(staged.c.set_tags, db.not_(staged.c.is_new))
    db.session.execute(tag_table.delete().where(tag_table.c.supporter_id.in_(retagged)))
    db.session.execute(
        tag_table.insert().from_select(
            ["supporter_id", "tag"],
            db.select(staged.c.supporter_id, staged_tags.c.tag).join(staged_tags, staged_tags.c.n == staged.c.n),
        )
    )
    return created


def _complete_search_text() -> None:
    """Remake, from the names the list now holds, the search text of the supporters just updated by rows that
    leave a name out (the staged text knew only the row's own). The databases cannot fold text, so Python does.

    A file with both name columns has no such rows. The update holds their locks, so the names stay as read.
    """
    s = Supporter.__table__
    partial = db.session.execute(
        db.select(s.c.id, s.c.first_name, s.c.last_name, s.c.email)
        .join(staged, staged.c.supporter_id == s.c.id)
        .where(db.not_(db.and_(staged.c.set_first_name, staged.c.set_last_name)))
    ).all()
    if partial:
        db.session.execute(
            s.update().where(s.c.id == db.bindparam("supporter_id")).values(search_text=db.bindparam("text")),
            [
                {"supporter_id": row.id, "text": search_text_of(row.first_name, row.last_name, row.email)}
                for row in partial
            ],
        )


def _add_new(office_id: int, now: datetime) -> int:
    """Insert the rows not on the list yet, and note their ids in the staging table; returns how many."""
    s = Supporter.__table__
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:  # ids from the sequence first, so no lookup is needed afterwards
        created = db.session.execute(
            db.text(
                "UPDATE supporter_staging SET supporter_id = nextval(pg_get_serial_sequence('supporters', 'id')),"
                " is_new = true WHERE supporter_id IS NULL"
            )
        ).rowcount
    new = (
        db.select(
            staged.c.supporter_id,
            db.literal(office_id),
            staged.c.email,
            staged.c.first_name,
            staged.c.last_name,
            staged.c.language,
            staged.c.search_text,
            db.literal("subscribed"),
            staged.c.consent_source,
            db.case((staged.c.consent_source.is_not(None), staged.c.consent_at), else_=db.null()),
            db.literal(now, DateTime),
            db.literal(now, DateTime),
        )
        .where(staged.c.is_new if postgresql else staged.c.supporter_id.is_(None))
        .order_by(staged.c.n)
    )
    db.session.execute(
        s.insert().from_select(
            [
                "id",
                "office_id",
                "email",
                "first_name",
                "last_name",
                "language",
                "search_text",
                "status",
                "consent_source",
                "consent_at",
                "status_changed_at",
                "created_at",
            ],
            new,
        )
    )
    if not postgresql:  # SQLite gave the ids (its writers take turns, so the lookup finds these rows)
        created = db.session.execute(
            staged.update()
            .where(staged.c.supporter_id.is_(None))
            .values(
                supporter_id=db.select(s.c.id)
                .where(s.c.office_id == office_id, s.c.email == staged.c.email)
                .scalar_subquery(),
                is_new=True,
            )
        ).rowcount
    return created


def _load(rows: list[dict], tags: list[tuple[int, str]]) -> None:
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(staged.insert(), [{name: row[name] for name in _ROW_COLUMNS} for row in rows])
        if tags:
            db.session.execute(staged_tags.insert(), [{"n": n, "tag": tag} for n, tag in tags])
        return
    # COPY is PostgreSQL's fast way in; it runs on the session's own connection, in its transaction.
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY supporter_staging ({', '.join(_ROW_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_ROW_TYPES)
        for row in rows:
            copy.write_row(_row_values(row))
    with cursor.copy("COPY supporter_staging_tags (n, tag) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "varchar"])
        for row in tags:
            copy.write_row(row)
    cursor.execute("ANALYZE supporter_staging, supporter_staging_tags")
