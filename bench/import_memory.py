"""Peak memory of an import whatever share of its rows is bad: N rows all good, then N rows all rejected.

Rejected rows go to the report on disk as they come and only the first thousand are kept for the API, so
both peaks should be about the same. Each import runs as the CLI runs it, in a child process of its own,
whose peak RSS is read from its own rusage (wait4), so neither run's figure includes the other's.

    .venv/bin/python bench/import_memory.py [--rows 200000] [--database postgresql://postgres@127.0.0.1:5432/test]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import drop_database, make_database  # noqa: E402


def write_csv(path: Path, rows: int, *, bad: bool) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("email,first_name,last_name,tags\n")
        for n in range(rows):
            # A bad row: an address without @, the commonest mistake, and a name as long as names get.
            email = f"person{n}.example.org" if bad else f"person{n}@example.org"
            out.write(f"{email},Persona {n} {'x' * 150},Apellido,list;{'even' if n % 2 == 0 else 'odd'}\n")


def flask(env: dict, *args: str) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run `flask --app app ARGS` and return (its result, seconds, its own peak RSS in MB)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return (
        subprocess.CompletedProcess(child.args, child.returncode, out),
        time.perf_counter() - start,
        usage.ru_maxrss // 1024,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url, created = make_database(args.database)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "MOBILISE_ENV": "production"}
    try:
        flask(env, "db", "upgrade")
        flask(
            env,
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
        )
        for bad in (False, True):
            path = folder / f"{'bad' if bad else 'good'}.csv"
            write_csv(path, args.rows, bad=bad)
            done, seconds, peak = flask(env, "supporters", "import", str(path), "--office", "GB")
            if done.returncode:
                raise SystemExit(f"the import failed: {done.stdout[-2000:]}")
            summary = next(line for line in done.stdout.splitlines() if line.startswith("created"))
            print(
                f"{args.rows:,} rows all {'bad ' if bad else 'good'} ({path.stat().st_size / 1e6:.0f} MB):"
                f" {seconds:6.1f} s, peak RSS {peak} MB   ({summary})"
            )
    finally:
        drop_database(created)


if __name__ == "__main__":
    main()
