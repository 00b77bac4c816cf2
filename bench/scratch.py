"""A scratch PostgreSQL database beside the one given, for a benchmark to fill and drop."""
import tempfile
import uuid

import psycopg


def make_database(url: str | None):
    if url is None:
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite", None
    name = f"mobilise_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}", (url, name)


def drop_database(created):
    if created:
        url, name = created
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
