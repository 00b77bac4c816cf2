"""A scratch PostgreSQL database beside the one given, for a benchmark to fill and drop; or a cluster of the
benchmark's own, whose CPU is then the benchmark's alone."""

import argparse
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

# The machine's cluster as set here (bench/README: `SELECT name, setting FROM pg_settings WHERE source =
# 'configuration file'`), so that a cluster of the bench's own behaves as that one does.
MACHINE_SETTINGS = {"shared_buffers": "128MB", "max_wal_size": "1GB", "autovacuum": "off", "max_connections": "100"}


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


@contextlib.contextmanager
def own_postgres(statements: bool = False):
    """A PostgreSQL cluster of the benchmark's own on a free loopback port, set as the machine's (initdb'd afresh,
    removed after): every process of it is the benchmark's, so its CPU can be read from its postmaster. Yields
    (url of its `bench` database, the postmaster's pid). With `statements`, pg_stat_statements is loaded and created
    in `bench` (see `top_statements`)."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        raise SystemExit("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)")
    bin_dir = Path(binaries[-1]).parent
    home = tempfile.mkdtemp(prefix="mobilise-bench-pg-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(home, "postgres")
    data = f"{home}/data"
    run = lambda *argv: subprocess.run([*as_postgres, *argv], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale", "C.UTF-8")
    settings = {**MACHINE_SETTINGS, "listen_addresses": "127.0.0.1"}
    if statements:
        settings["shared_preload_libraries"] = "pg_stat_statements"
    options = " ".join(f"-c {k}={v}" for k, v in settings.items())
    run(str(bin_dir / "pg_ctl"), "-D", data, "-l", f"{home}/log", "-w", "-o", f"-p {port} -k {home} {options}", "start")
    try:
        pid = int(Path(f"{data}/postmaster.pid").read_text().split()[0])
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        if statements:
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/bench", autocommit=True) as conn:
                conn.execute("CREATE EXTENSION pg_stat_statements")
        yield f"postgresql://postgres@127.0.0.1:{port}/bench", pid
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(home, ignore_errors=True)


def reset_statements(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def top_statements(url: str, database: str, per: int, limit: int = 12) -> list[str]:
    """The statements run in `database` since the last reset that took the most time, as lines: µs of execution
    (and planning) per unit of work (`per` of them), calls per unit, and the statement's start."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT total_exec_time + total_plan_time, calls, rows, query FROM pg_stat_statements s"
            " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s ORDER BY 1 DESC LIMIT %s",
            (database, limit),
        ).fetchall()
    return [
        f"{ms * 1000 / per:8.2f} µs {calls / per:7.3f} calls {rows / per:7.3f} rows  {' '.join(query.split())[:110]}"
        for ms, calls, rows, query in rows
    ]


def cpu_seconds(pids) -> float:
    """User and kernel CPU of `pids`, with that of their children once reaped (RQ's job processes)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def with_children(pid: int) -> list[int]:
    try:
        return [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    except OSError:
        return [pid]


def postgres_server(database: str, statements: bool = False):
    """A context for the server a bench runs on: `own`, a cluster of its own (own_postgres); else the URL given.
    Yields (url, the postmaster's pid or None)."""
    return own_postgres(statements=statements) if database == "own" else contextlib.nullcontext((database, None))
