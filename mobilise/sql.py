"""SQL that differs by database, written once."""

import sqlite3

from sqlalchemy import BigInteger, any_, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine

from .extensions import db


def bigint_array(values) -> object:
    """A list of integers as one PostgreSQL `bigint[]` parameter."""
    return db.cast(list(values), ARRAY(BigInteger))


def one_of(column, ids: list[int]):
    """`column IN ids`. On PostgreSQL, `column = ANY(:array)`: one parameter rather than one per id, so the
    statement's text is the same for any number of ids; psycopg prepares it after a few runs and the
    server stops parsing and planning it (a bulk write of 500 outcomes otherwise renders 500 parameters)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bigint_array(ids))
    return column.in_(ids)


@event.listens_for(Engine, "connect")
def _sqlite_for_several_processes(dbapi_connection, _record) -> None:
    """SQLite in write-ahead-log mode: readers (the web) never block the workers' writes, and a commit is one
    write to the log rather than two synced files (each sent email is a commit)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def made_on(dialect: str):
    """Alembic's `include_object` for a schema compared on `dialect`: a model's object made for another database
    only (`.ddl_if(dialect=...)`, such as PostgreSQL's trigram index) is not missing from this one."""

    def include_object(object, name, type_, reflected, compare_to) -> bool:
        only = getattr(object, "_ddl_if", None)
        return only is None or only.dialect is None or only.dialect == dialect

    return include_object


def upsert(model):
    """INSERT with ON CONFLICT (`on_conflict_do_update`, `on_conflict_do_nothing`), in the dialect at hand."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def without_jit() -> None:
    """For the rest of the transaction, no JIT compilation on PostgreSQL. It compiles any query whose estimated
    cost passes `jit_above_cost`, and counting an audience of a million is such a query: compiling it took longer
    than running it (hundreds of milliseconds, for a page staff wait on)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text("SET LOCAL jit = off"))
