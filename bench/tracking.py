"""The open pixel under gunicorn with the service's real recording, against a bare GIF endpoint.

Both are served by one gunicorn, loaded in turn by wrk on loopback, alternating for --rounds
rounds; reports the median requests/s and p99 of each, and the ratio of the medians (a 2-core
machine shared with the load tool and Redis is noisy: single runs vary by ±15%).

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
        runs = {"bare": [], "pixel": []}
        for _ in range(args.rounds):
            runs["bare"].append(wrk(base + "/bare.gif", args.seconds, args.connections))
            runs["pixel"].append(wrk(base + path, args.seconds, args.connections))
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
    print(
        f"gunicorn workers={args.workers} wrk connections={args.connections} seconds={args.seconds} rounds={args.rounds} (medians)"
    )
    print(f"bare GIF endpoint:        {bare[0]:8.0f} req/s   p99 {bare[1]:6.2f} ms")
    print(f"pixel, real recording:    {pixel[0]:8.0f} req/s   p99 {pixel[1]:6.2f} ms   ({events} events in the stream)")
    print(f"ratio (pixel / bare):     {pixel[0] / bare[0]:.2f}   (each round: {ratios})")


if __name__ == "__main__":
    main()
