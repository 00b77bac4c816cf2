"""A generated N-row supporter CSV imported into PostgreSQL, beside PostgreSQL's own COPY of the same file.

The file has what offices send: names in several scripts, tags, languages, consent sources, one row in
200 with a bad address and one in 100 repeating an earlier address. The importer runs as the CLI runs
it (streamed, batches of 10,000, the same validation as the API) in a child process, so its peak memory
(max RSS) is its own; the baseline COPYs the same bytes into an unindexed table with the same columns.
By default PostgreSQL is a cluster of the bench's own (`--database own`, set as the machine's), so the CPU it
reports for PostgreSQL is the import's alone; the importer's CPU is its process's. `--profile` records where the
importer's time goes with py-spy (a flame graph, SVG); `--pg-statements` prints PostgreSQL's costliest statements.

    .venv/bin/python bench/import.py [--rows 1000000] [--database own|postgresql://postgres@127.0.0.1:5432/test]
    .venv/bin/python bench/import.py --rows 200000 --pg-statements --profile /tmp/import.svg
"""

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import (  # noqa: E402
    cpu_seconds,
    drop_database,
    make_database,
    postgres_server,
    reset_statements,
    top_statements,
    with_children,
)

FIRST = [
    "Ana",
    "Rocío",
    "Nicolás",
    "Li",
    "Yulia",
    "Amaka",
    "Søren",
    "Zoë",
    "Мария",
    "محمد",
    "李",
    "Ωmega",
    "José",
    "Élodie",
]
LAST = ["García", "Okafor", "Ivanova", "O'Brien", "Nguyễn", "Müller", "Smith", "Kowalski", "Dubois", "Haddad"]
TAGS = ["petition", "newsletter", "youth", "lgbti", "refugees", "death-penalty", "street"]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(53)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "first_name", "last_name", "language", "tags", "consent_source"])
        for n in range(rows):
            if n % 200 == 199:
                email = f"broken{n}.example.org"  # no @: rejected with its line
            elif n % 100 == 99:
                email = f"person{n - 50}@example.org"  # an earlier row again: an update
            else:
                email = f"Person{n}@Example.org"
            writer.writerow(
                [
                    email,
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    rng.choice(["en", "es", "fr", ""]),
                    ";".join(rng.sample(TAGS, rng.randint(0, 3))),
                    "petition, March" if n % 3 else "",
                ]
            )


def copy_baseline(url: str, path: Path) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS copy_baseline (email text, first_name text, last_name text,"
            " language text, tags text, consent_source text)"
        )
        conn.execute("TRUNCATE copy_baseline")
        start = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY copy_baseline FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        return time.perf_counter() - start


def run_importer(url: str, path: Path, profile: str | None = None) -> tuple[float, int, str, float]:
    """The CLI's import in a child process: (seconds, peak RSS in MB, its summary line, its CPU seconds)."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "MOBILISE_ENV": "production"}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "office",
            "create",
            "GB",
            "--name",
            "Amnesty UK",
            "--language",
            "en",
            "--timezone",
            "Europe/London",
            "--sender",
            "ua@uk.example.org",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    command = [sys.executable, "-m", "flask", "--app", "app", "supporters", "import", str(path), "--office", "GB"]
    if profile:
        py_spy = Path(sys.executable).parent / "py-spy"
        kind = "flamegraph" if profile.endswith(".svg") else "raw"  # raw: collapsed stacks, one a line, to grep
        command = [str(py_spy), "record", "--rate", "100", "--format", kind, "-o", profile, "--", *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = after.ru_maxrss // 1024
    summary = next(line for line in done.stdout.splitlines() if line.startswith("created"))
    return seconds, peak_mb, summary, cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="own", help="own (a cluster of the bench's own) or a PostgreSQL URL")
    parser.add_argument(
        "--profile",
        metavar="SVG",
        help="record the importer with py-spy into this file (SVG: a flame graph; else collapsed stacks)",
    )
    parser.add_argument("--pg-statements", action="store_true", help="PostgreSQL's costliest statements (own only)")
    args = parser.parse_args()
    if args.pg_statements and args.database != "own":
        parser.error("--pg-statements needs the bench's own cluster (--database own)")
    folder = Path(tempfile.mkdtemp())
    path = folder / "supporters.csv"
    write_csv(path, args.rows)
    size_mb = path.stat().st_size / 1e6
    with postgres_server(args.database, statements=args.pg_statements) as (server, postmaster):
        url, created = make_database(server)
        plain_url = url.replace("postgresql+psycopg://", "postgresql://")
        try:
            baseline = copy_baseline(plain_url, path)
            if args.pg_statements:
                reset_statements(server)
            pg_before = cpu_seconds(with_children(postmaster)) if postmaster else None
            seconds, peak_mb, summary, cpu = run_importer(url, path, args.profile)
            pg_cpu = cpu_seconds(with_children(postmaster)) - pg_before if postmaster else None
            statements = top_statements(server, url.rsplit("/", 1)[1], args.rows) if args.pg_statements else []
        finally:
            drop_database(created)
    path.unlink()
    print(f"{args.rows:,} rows, {size_mb:.0f} MB of CSV")
    print(f"PostgreSQL COPY (baseline):  {baseline:7.1f} s   {args.rows / baseline:10,.0f} rows/s")
    print(
        f"supporters import (the CLI): {seconds:7.1f} s   {args.rows / seconds:10,.0f} rows/s   peak RSS {peak_mb} MB"
    )
    print(f"                             {summary}")
    print(f"ratio (import time / COPY time): {seconds / baseline:.1f}")
    parts = f"importer {cpu * 1e6 / args.rows:.1f}"
    if pg_cpu is not None:
        parts += f", PostgreSQL {pg_cpu * 1e6 / args.rows:.1f}"
    print(f"CPU a row (µs): {parts}")
    for line in statements:
        print("  ", line)
    if args.profile:
        print(f"profile: {args.profile}")


if __name__ == "__main__":
    main()
