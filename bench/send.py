"""A launch to N supporters through the real workers, against the ceiling of SMTP on this machine.

The case is the demo's real UA. The relay is a minimal SMTP sink written for the benchmark (bench/sink.py), in its
own process; it offers PIPELINING, as Postfix and the large relays do (--no-pipelining: it does not). The
ceiling, against the same sink: smtplib pushing pre-built messages of the same size over one connection per
process, from one process and from two, measured before the launches and after them (the higher is used).
The pipeline: `start_drive` (as the API's launch does) → the audience written as deliveries → RQ jobs → N
`flask worker` processes rendering, splicing and sending through Flask-Mail → every delivery marked; the clock
stops when the sink accepts the last message. Also reported: the time to plan the audience (launch →
deliveries written), each worker's peak memory (the highest VmHWM among its job processes), and the CPU
each part used per email (workers with their job processes, the sink, PostgreSQL's processes, Redis).

    .venv/bin/python bench/send.py [--supporters 100000] [--workers 2] [--database postgresql://postgres@127.0.0.1:5432/test]
    .venv/bin/python bench/send.py --database sqlite          # the embedded default
    .venv/bin/python bench/send.py --compare-workers          # 1 worker, then 2, same database
    .venv/bin/python bench/send.py --compare-dkim             # unsigned, then signed with RSA-2048 (and --dkim-keys)
"""

import argparse
import multiprocessing
import os
import smtplib
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import drop_database, make_database  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sink_stats(port: int) -> tuple[int, float, int]:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.recv(100)
        conn.sendall(b"XSTAT\r\n")
        _, count, last_at, size = conn.recv(200).decode().split()
        conn.sendall(b"QUIT\r\n")
    return int(count), float(last_at), int(size)


def _push(port: int, count: int, raw: bytes, offset: int) -> None:
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            smtp.sendmail("ua@uk.example.org", [f"person{offset + i}@example.net"], raw)


def ceiling(port: int, n: int, size: int, processes: int) -> float:
    """Emails/s of smtplib pushing pre-built messages of `size` bytes, one connection per process."""
    line = b"x" * 74 + b"\r\n"
    raw = b"From: ua@uk.example.org\r\nTo: x@example.net\r\nSubject: ceiling\r\n\r\n" + line * max(size // 76, 1)
    each = n // processes
    start = time.monotonic()
    jobs = [multiprocessing.Process(target=_push, args=(port, each, raw, k * each)) for k in range(processes)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    return each * processes / (time.monotonic() - start)


def peak_kb(pid: int) -> int:
    """The highest VmHWM of `pid` and its children (RQ forks a job process per job)."""
    best = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    for each in [str(pid), *children]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best


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


def cpu_by_part(worker_pids, sink_pid) -> dict[str, float]:
    def named(name):
        return [
            int(pid) for pid in subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()
        ]

    return {
        "workers": cpu_seconds(worker_pids),
        "sink": cpu_seconds([sink_pid]),
        "postgresql": cpu_seconds(named("postgres")),
        "redis": cpu_seconds(named("redis-server")),
    }


def dkim_key(kind: str) -> str:
    """A fresh PEM private key: `rsa2048` (what receivers verify everywhere) or `ed25519`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = (
        ed25519.Ed25519PrivateKey.generate()
        if kind == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=int(kind.removeprefix("rsa")))
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def run_launch(args, workers: int, sink_port: int, sink_pid: int, dkim: str = "none") -> dict:
    from flask_migrate import upgrade

    from mobilise import create_app
    from mobilise.jobs import redis_connection

    url, created = make_database(None if args.database == "sqlite" else args.database)
    settings = dict(
        DATABASE_URL=url,
        REDIS_URL=args.redis,
        SECRET_KEY="bench",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(sink_port),
        SEND_BATCH_SIZE=str(args.batch),
        PUBLIC_BASE_URL="https://act.example.org",
        MOBILISE_ENV="production",
    )
    env = dict(os.environ, **settings)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": args.redis,
            "SECRET_KEY": "bench",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": sink_port,
            "SEND_BATCH_SIZE": args.batch,
            "PUBLIC_BASE_URL": "https://act.example.org",
        }
    )
    procs = []
    try:
        with app.app_context():
            upgrade()
            redis_connection().flushdb()
            sys.path.insert(0, str(ROOT / "tests"))
            from builders import make_office

            from mobilise.cases.service import create_case
            from mobilise.cases.ua_document import parse_ua_document
            from mobilise.clock import utcnow
            from mobilise.demo import SEED_UA
            from mobilise.extensions import db
            from mobilise.sequences.dispatch import start_drive
            from mobilise.sequences.models import Mailing
            from mobilise.supporters.service import upsert_supporters

            office = make_office(
                **({} if dkim == "none" else {"dkim_selector": "bench", "dkim_private_key": dkim_key(dkim)})
            )
            for start in range(0, args.supporters, 10_000):
                upsert_supporters(
                    office,
                    [
                        {"email": f"person{i}@example.net", "first_name": f"P{i}"}
                        for i in range(start, min(start + 10_000, args.supporters))
                    ],
                )
            fields = parse_ua_document(SEED_UA.read_text(encoding="utf-8"))  # a real UA, as the demo's
            fields["deadline"] = (utcnow().date() + timedelta(days=30)).isoformat()
            case = create_case(fields)
            before, _, _ = sink_stats(sink_port)
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "app", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(workers)
            ]
            time.sleep(3)  # the workers listen before the clock starts
            peaks = [0] * workers
            cpu_before = cpu_by_part([proc.pid for proc in procs], sink_pid)
            started = time.monotonic()
            start_drive(case, office, {"office": "GB"})
            deadline = started + args.timeout
            while time.monotonic() < deadline:
                count, last_at, size = sink_stats(sink_port)
                peaks = [max(p, peak_kb(proc.pid)) for p, proc in zip(peaks, procs)]
                if count - before >= args.supporters:
                    break
                time.sleep(0.1)
            delivered = count - before
            elapsed = last_at - started
            cpu_after = cpu_by_part([proc.pid for proc in procs], sink_pid)
            cpu = {part: cpu_after[part] - cpu_before[part] for part in cpu_after}
            db.session.expire_all()
            mailing = db.session.scalar(db.select(Mailing).where(Mailing.stage == "launch"))
            planned = (
                (mailing.audience_taken_at - mailing.queued_at).total_seconds() if mailing.audience_taken_at else None
            )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        drop_database(created)
    return {
        "elapsed": elapsed,
        "delivered": delivered,
        "size": size,
        "planned": planned,
        "peaks_mb": [p // 1024 for p in peaks],
        "cpu": cpu,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--supporters", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare-workers", action="store_true", help="run with 1 worker, then with --workers")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument(
        "--database", default="postgresql://postgres@127.0.0.1:5432/test", help="a PostgreSQL URL, or sqlite"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="flushed before the run")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--message-bytes", type=int, default=5400, help="ceiling's message size before the launch tells it"
    )
    parser.add_argument("--no-pipelining", action="store_true", help="the sink does not offer PIPELINING")
    parser.add_argument("--dkim", default="none", help="the office's DKIM key: none, rsa2048, rsa1024, ed25519")
    parser.add_argument(
        "--compare-dkim", action="store_true", help="with --workers: unsigned, then each of --dkim-keys, in one run"
    )
    parser.add_argument("--dkim-keys", default="rsa2048", help="the keys --compare-dkim signs with, comma-separated")
    args = parser.parse_args()

    port = free_port()
    sink_args = [sys.executable, str(ROOT / "bench" / "sink.py"), str(port)] + (
        ["--no-pipelining"] if args.no_pipelining else []
    )
    sink = subprocess.Popen(sink_args, stdout=subprocess.PIPE, text=True)
    try:
        sink.stdout.readline()
        if args.compare_dkim:
            runs = [(args.workers, kind) for kind in ["none", *args.dkim_keys.split(",")]]
        else:
            runs = [(workers, args.dkim) for workers in ([1, args.workers] if args.compare_workers else [args.workers])]
        sample = min(args.supporters, 20_000)
        # The ceiling is measured before the launches and after them, and the higher of the two is the one
        # compared against: on a shared machine it moves by a third from minute to minute.
        before = {k: ceiling(port, sample, args.message_bytes, k) for k in (1, 2)}
        results = {run: run_launch(args, run[0], port, sink.pid, dkim=run[1]) for run in runs}
        size = next(iter(results.values()))["size"]
        after = {k: ceiling(port, sample, size, k) for k in (1, 2)}
        ceilings = {k: max(before[k], after[k]) for k in (1, 2)}
    finally:
        sink.terminate()
        sink.wait()

    backend = "sqlite" if args.database == "sqlite" else "postgresql"
    print(
        f"backend={backend} supporters={args.supporters} batch={args.batch} message_bytes={size}"
        f" relay_pipelining={'no' if args.no_pipelining else 'yes'}"
    )
    print(
        f"ceiling, smtplib pushing pre-built messages to the sink: 1 process {ceilings[1]:,.0f}/s, 2 processes {ceilings[2]:,.0f}/s"
        f" (the higher of before the launches: {before[1]:,.0f} / {before[2]:,.0f}, and after: {after[1]:,.0f} / {after[2]:,.0f})"
    )
    for (workers, dkim), r in results.items():
        rate = r["delivered"] / r["elapsed"]
        print(
            f"{workers} worker(s), DKIM {dkim}: launch → last email accepted {r['elapsed']:.1f} s for {r['delivered']:,} emails"
            f" = {rate:,.0f}/s, {rate / ceilings[2]:.2f} of the 2-process ceiling;"
            f" audience planned in {r['planned']:.2f} s; peak RSS per worker {r['peaks_mb']} MB"
        )
        print(
            "   CPU per email, ms: "
            + ", ".join(f"{part} {seconds * 1000 / r['delivered']:.3f}" for part, seconds in r["cpu"].items())
            + f"; all {sum(r['cpu'].values()) * 1000 / r['delivered']:.3f}"
        )
    rates = {run: r["delivered"] / r["elapsed"] for run, r in results.items()}
    if args.compare_dkim:
        unsigned = rates[(args.workers, "none")]
        for (workers, dkim), rate in rates.items():
            if dkim != "none":
                signed, plain = results[(workers, dkim)], results[(workers, "none")]

                def more(part):  # ms per email more with DKIM than without, of one part (or of all)
                    used = (lambda r: r["cpu"][part]) if part else (lambda r: sum(r["cpu"].values()))
                    return (used(signed) / signed["delivered"] - used(plain) / plain["delivered"]) * 1000

                print(
                    f"DKIM {dkim} / unsigned: {rate / unsigned:.2f}x; CPU per email: workers {more('workers'):+.3f} ms,"
                    f" all parts {more(None):+.3f} ms"
                )
    elif len(results) == 2:
        one, two = rates.values()
        print(
            f"2 workers / 1 worker: {two / one:.2f}x (the ceiling's 2 processes / 1 process: {ceilings[2] / ceilings[1]:.2f}x)"
        )
    if any(r["delivered"] != args.supporters for r in results.values()):
        sys.exit("not every email arrived")


if __name__ == "__main__":
    main()
