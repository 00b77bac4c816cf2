"""Launch a UA to N supporters through the real workers and an SMTP relay on loopback.

Reports the time from the launch call to the last email accepted by the relay, beside a
baseline measured in the same run: N messages of the same size sent through one SMTP
session straight to the relay (no database, no queue, no rendering).

    .venv/bin/python bench/send.py [--supporters 10000] [--workers 2] [--database URL]
"""
import argparse
import os
import smtplib
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from mobilise import create_app  # noqa: E402
from mobilise.jobs import redis_connection  # noqa: E402

from bench.scratch import drop_database, make_database  # noqa: E402


class CountingRelay:
    def __init__(self):
        self.count = 0
        self.last_at = None
        self.size = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            self.last_at = time.perf_counter()
            self.size = len(envelope.content)
        return "250 OK"

    def reset(self):
        self.count, self.last_at = 0, None


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def baseline(port: int, n: int, size: int) -> float:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ua@uk.example.org", "x@example.net", "baseline"
    message.set_content(("x" * 70 + "\n") * max((size - 300) // 71, 1))
    raw = message.as_bytes(policy=SMTP)  # CRLF line ends, as smtplib sends bytes unchanged
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            smtp.sendmail("ua@uk.example.org", [f"person{i}@example.net"], raw)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--supporters", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database", help="a PostgreSQL URL to create a scratch database beside; default SQLite")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="flushed before the run")
    args = parser.parse_args()

    relay = CountingRelay()
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    url, created = make_database(args.database)
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=args.redis, SECRET_KEY="bench", MAIL_SERVER="127.0.0.1",
               MAIL_PORT=str(port), SEND_BATCH_SIZE=str(args.batch), PUBLIC_BASE_URL="https://act.example.org")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": args.redis, "SECRET_KEY": "bench",
                      "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "SEND_BATCH_SIZE": args.batch})
    workers = []
    try:
        with app.app_context():
            upgrade()
            redis_connection().flushdb()
            sys.path.insert(0, str(ROOT / "tests"))
            from builders import make_case, make_office  # noqa: E402

            from mobilise.sequences.dispatch import start_drive
            from mobilise.supporters.service import upsert_supporters

            office = make_office()
            for start in range(0, args.supporters, 2000):
                upsert_supporters(office, [{"email": f"person{i}@example.net", "first_name": f"P{i}"}
                                           for i in range(start, min(start + 2000, args.supporters))])
            case = make_case()
            workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(args.workers)]
            time.sleep(2)  # let the workers start listening before the clock starts
            started = time.perf_counter()
            start_drive(case, office, {"office": "GB"})
            deadline = started + 600
            while relay.count < args.supporters and time.perf_counter() < deadline:
                time.sleep(0.05)
            elapsed = (relay.last_at or time.perf_counter()) - started
            delivered = relay.count
        size = relay.size
        relay.reset()
        base = baseline(port, args.supporters, size)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait()
        controller.stop()
        drop_database(created)

    backend = "postgresql" if args.database else "sqlite"
    print(f"backend={backend} supporters={args.supporters} workers={args.workers} batch={args.batch} message_bytes={size}")
    print(f"launch → last email accepted: {elapsed:.2f} s for {delivered} emails ({delivered / elapsed:.0f}/s)")
    print(f"baseline, one bare SMTP session: {base:.2f} s ({args.supporters / base:.0f}/s)")
    print(f"ratio (launch / baseline): {elapsed / base:.2f}x")
    if delivered != args.supporters:
        sys.exit(f"only {delivered} of {args.supporters} emails arrived")


if __name__ == "__main__":
    main()
