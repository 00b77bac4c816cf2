"""The open pixel under gunicorn with the service's real recording, against a bare GIF endpoint (and one that checks
the token as the pixel does and records nothing, which splits the difference between the check and the recording).

All are served by one gunicorn, loaded in turn by wrk on loopback, alternating for --rounds
rounds; reports the median requests/s and p99 of each, and the ratio of the medians (a 2-core
machine shared with the load tool and Redis is noisy: single runs vary by ±15%). Also the CPU each request
cost the service (gunicorn's workers, and Redis, which the pixel writes to), read from /proc around each round:
steadier than requests/s on a shared machine, since what else runs there slows both sides of a round alike
but adds nothing to the workers' own CPU.

    .venv/bin/python bench/tracking.py [--seconds 10] [--connections 32] [--workers 4]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.scratch import cpu_seconds, with_children  # noqa: E402


def pixel_path(env: dict) -> str:
    """Make one real delivery and return its open pixel's path."""
    os.environ.update(env)
    from builders import make_case, make_office, make_supporters  # noqa: E402
    from flask_migrate import upgrade

    from mobilise import create_app
    from mobilise.extensions import db
    from mobilise.models import Delivery, Mailing
    from mobilise.sequences.service import launch
    from mobilise.tokens import make_token

    app = create_app()
    with app.app_context():
        upgrade()
        office = make_office()
        make_supporters(office, 1)
        drive = launch(make_case(), office, {"office": "GB"})
        mailing = db.session.scalar(db.select(Mailing).where(Mailing.drive_id == drive.id))
        delivery = Delivery(mailing_id=mailing.id, supporter_id=1, status="sent")
        db.session.add(delivery)
        db.session.commit()
        return f"/o/{make_token('open', delivery.id)}.gif"


def redis_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def measured(url: str, seconds: int, connections: int, server_pid: int) -> tuple[float, float, float, float]:
    """One wrk round: (requests/s, p99 ms, µs of gunicorn workers' CPU a request, µs of Redis's CPU a request)."""
    workers = with_children(server_pid)[1:]
    before = cpu_seconds(workers), cpu_seconds(redis_pids())
    rps, p99_ms = wrk(url, seconds, connections)
    requests = rps * seconds
    return (
        rps,
        p99_ms,
        (cpu_seconds(workers) - before[0]) * 1e6 / requests,
        (cpu_seconds(redis_pids()) - before[1]) * 1e6 / requests,
    )


def wrk(url: str, seconds: int, connections: int) -> tuple[float, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            "User-Agent: Mozilla/5.0 (iPhone) AppleWebKit",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    if "Non-2xx" in out:
        raise SystemExit(f"errors under load:\n{out}")
    return rps, p99_ms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="flushed before and after")
    args = parser.parse_args()

    env = {
        "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite",
        "REDIS_URL": args.redis,
        "SECRET_KEY": "bench",
        "MOBILISE_ENV": "production",
    }
    Redis.from_url(args.redis).flushdb()
    path = pixel_path(env)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "bench.tracking_app:app",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        time.sleep(3)
        wrk(base + "/bare.gif", 2, args.connections)  # warm both up
        wrk(base + path, 2, args.connections)
        checked = path.replace("/o/", "/checked/")
        wrk(base + checked, 2, args.connections)
        runs = {"bare": [], "checked": [], "pixel": []}
        for _ in range(args.rounds):
            runs["bare"].append(measured(base + "/bare.gif", args.seconds, args.connections, server.pid))
            runs["checked"].append(measured(base + checked, args.seconds, args.connections, server.pid))
            runs["pixel"].append(measured(base + path, args.seconds, args.connections, server.pid))
    finally:
        server.terminate()
        server.wait()
    from mobilise.tracking.events import WAITING

    events = int(Redis.from_url(args.redis).get(WAITING) or 0)
    Redis.from_url(args.redis).flushdb()

    def median(results):
        ordered = sorted(results)
        return ordered[len(ordered) // 2]

    bare, pixel = median(runs["bare"]), median(runs["pixel"])
    ratios = ", ".join(f"{p[0] / b[0]:.2f}" for b, p in zip(runs["bare"], runs["pixel"]))
    cpu = {name: median([run[2] + run[3] for run in runs[name]]) for name in runs}
    cpu_ratios = ", ".join(f"{(b[2] + b[3]) / (p[2] + p[3]):.2f}" for b, p in zip(runs["bare"], runs["pixel"]))
    print(
        f"gunicorn workers={args.workers} wrk connections={args.connections} seconds={args.seconds} rounds={args.rounds} (medians)"
    )
    for name, label, extra in (
        ("bare", "bare GIF endpoint:    ", ""),
        ("checked", "token checked only:    ", ""),
        ("pixel", "pixel, real recording:", f"   ({events} events in the stream)"),
    ):
        run = median(runs[name])
        print(
            f"{label} {run[0]:8.0f} req/s   p99 {run[1]:6.2f} ms   CPU a request {cpu[name]:5.0f} µs"
            f" (gunicorn {median([r[2] for r in runs[name]]):.0f}, Redis {median([r[3] for r in runs[name]]):.0f}){extra}"
        )
    print(f"ratio (pixel / bare), requests/s:      {pixel[0] / bare[0]:.2f}   (each round: {ratios})")
    print(f"ratio (bare / pixel), CPU a request:   {cpu['bare'] / cpu['pixel']:.2f}   (each round: {cpu_ratios})")


if __name__ == "__main__":
    main()
