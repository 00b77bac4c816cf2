"""A scratch PostgreSQL database beside the one given, for a benchmark to fill and drop."""

import argparse
import os
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


def run_on_scratch(run_bench, calls: int) -> None:
    """The command line of a PostgreSQL benchmark: a scratch database beside --database, the app's environment
    pointed at it, `run_bench(calls, url)`, and the database dropped whatever happens."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="PostgreSQL to create a scratch database beside (dropped after)",
    )
    parser.add_argument("--calls", type=int, default=calls)
    args = parser.parse_args()
    url, created = make_database(args.database)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "MOBILISE_ENV": "production",
            "REDIS_URL": "redis://127.0.0.1:6379/14",
        }
    )
    try:
        run_bench(args.calls, url)
    finally:
        drop_database(created)
