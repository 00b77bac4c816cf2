"""SQL that differs by database, written once."""
from sqlalchemy import BigInteger, any_
from sqlalchemy.dialects.postgresql import ARRAY

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
