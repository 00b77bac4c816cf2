"""A launch to N supporters through the real workers, against the ceiling of SMTP on this machine.

The case is the demo's real UA. The relay is a minimal SMTP sink written for the benchmark (bench/sink.py), in its
own process; it offers PIPELINING, as Postfix and the large relays do (--no-pipelining: it does not). Two
ceilings, against the same sink, each pushing pre-built messages of the same size over one connection per process,
from one process and from two, measured before the launches and after them (the higher is used): smtplib (four
round trips an email) and, when the sink offers it, pipelined exactly as the service pipelines (one write of a
message's content with the next envelope, one round trip an email, and nothing else).
The pipeline: `start_drive` (as the API's launch does) → the audience written as deliveries → RQ jobs → N
`flask worker` processes rendering, splicing and sending through Flask-Mail → every delivery marked; the clock
stops when the sink accepts the last message. Also reported: the time to plan the audience (launch →
deliveries written), each worker's peak memory (the highest VmHWM among its job processes), and the CPU
each part used per email (workers with their job processes, the sink, PostgreSQL's processes, Redis). By default
PostgreSQL is a cluster of the bench's own (`--database own`: initdb'd afresh, set as the machine's), so that its
CPU is the bench's alone and not that of whatever else uses the machine's.

    .venv/bin/python bench/send.py [--supporters 100000] [--workers 2] [--database own|postgresql://...]
    .venv/bin/python bench/send.py --database sqlite          # the embedded default
    .venv/bin/python bench/send.py --compare-workers          # 1 worker, then 2, same database
    .venv/bin/python bench/send.py --compare-dkim             # unsigned, then signed with RSA-2048 (and --dkim-keys)
"""

import argparse
import multiprocessing
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

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


def _push_pipelined(port: int, count: int, raw: bytes, offset: int) -> None:
    """As the service pipelines (mobilise/sending/pipelining.py): each message's content goes in one write with the
    next message's MAIL, RCPT and DATA, and the replies to both are read before the next write. One round trip an
    email, and nothing else: no composing, no parsing beyond finding the end of each reply."""

    def envelope(i: int) -> bytes:
        return f"MAIL FROM:<ua@uk.example.org> SIZE={len(raw)}\r\nRCPT TO:<person{offset + i}@example.net>\r\nDATA\r\n".encode()

    content = raw + (b".\r\n" if raw.endswith(b"\r\n") else b"\r\n.\r\n")
    with socket.create_connection(("127.0.0.1", port)) as conn:
        replies = conn.makefile("rb")

        def reply() -> bytes:
            while (line := replies.readline())[3:4] == b"-":  # a multiline reply ends with "code SP"
                pass
            return line

        reply()
        conn.sendall(b"EHLO bench\r\n")
        if not reply().startswith(b"250"):
            raise RuntimeError("EHLO refused")
        conn.sendall(envelope(0))
        for i in range(count):
            for _ in range(3):  # MAIL, RCPT, DATA
                reply()
            conn.sendall(content + envelope(i + 1) if i + 1 < count else content)
            if not reply().startswith(b"250"):
                raise RuntimeError("message refused")
        conn.sendall(b"QUIT\r\n")


def ceiling(port: int, n: int, size: int, processes: int, pipelined: bool = False) -> float:
    """Emails/s of pre-built messages of `size` bytes pushed over one connection per process: by smtplib (four
    round trips an email), or `pipelined` as the service does when the relay offers it (one)."""
    line = b"x" * 74 + b"\r\n"
    raw = b"From: ua@uk.example.org\r\nTo: x@example.net\r\nSubject: ceiling\r\n\r\n" + line * max(size // 76, 1)
    each = n // processes
    push = _push_pipelined if pipelined else _push
    start = time.monotonic()
    jobs = [multiprocessing.Process(target=push, args=(port, each, raw, k * each)) for k in range(processes)]
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


def cpu_by_part(worker_pids, sink_pid, postmaster: int | None) -> dict[str, float]:
    """CPU seconds so far of each part. PostgreSQL's is its postmaster's with its children (those it reaped are in
    its own figures) when the cluster is the bench's own, else that of every postgres process on the machine."""

    def named(name):
        return [
            int(pid) for pid in subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()
        ]

    return {
        "workers": cpu_seconds(worker_pids),
        "sink": cpu_seconds([sink_pid]),
        "postgresql": cpu_seconds(with_children(postmaster) if postmaster else named("postgres")),
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


def run_launch(args, workers: int, sink_port: int, sink_pid: int, dkim: str = "none", alongside=None) -> dict:
    """One launch to args.supporters through `workers` workers, on a fresh database. `alongside`, when given, is
    told of the run: `prepare(env)` before the clock starts (the app's environment, the database made and filled),
    `launched(started)` right after the launch call, `finish()` once the sink has every email (its answer is the
    result's "alongside"; the database is still there), and `close()` whatever happens."""
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
            worker = [sys.executable, "-m", "flask", "--app", "app", "worker"]
            if getattr(args, "worker_nice", 0):  # the send yields the CPU to whatever else the machine serves
                worker = ["nice", "-n", str(args.worker_nice), *worker]
            if getattr(
                args, "profile", None
            ):  # py-spy samples each worker and its job processes, into collapsed stacks
                py_spy = [str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses", "--rate", "200"]
                worker = [*py_spy, "--format", "raw", "-o", f"{args.profile}-{workers}w", "--", *worker]
            procs = [
                subprocess.Popen(
                    worker,
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(workers)
            ]
            if alongside:
                alongside.prepare(env)
            time.sleep(3)  # the workers listen before the clock starts
            peaks = [0] * workers
            cpu_before = cpu_by_part([proc.pid for proc in procs], sink_pid, args.postmaster)
            started = time.monotonic()
            if args.pg_statements:
                reset_statements(args.database)
            start_drive(case, office, {"office": "GB"})
            if alongside:
                alongside.launched(started)
            deadline = started + args.timeout
            while time.monotonic() < deadline:
                count, last_at, size = sink_stats(sink_port)
                peaks = [max(p, peak_kb(proc.pid)) for p, proc in zip(peaks, procs)]
                if count - before >= args.supporters:
                    break
                time.sleep(0.1)
            delivered = count - before
            elapsed = last_at - started
            cpu_after = cpu_by_part([proc.pid for proc in procs], sink_pid, args.postmaster)
            cpu = {part: cpu_after[part] - cpu_before[part] for part in cpu_after}
            statements = (
                top_statements(args.database, url.rsplit("/", 1)[1], max(delivered, 1)) if args.pg_statements else []
            )
            db.session.expire_all()
            mailing = db.session.scalar(db.select(Mailing).where(Mailing.stage == "launch"))
            planned = (
                (mailing.audience_taken_at - mailing.queued_at).total_seconds() if mailing.audience_taken_at else None
            )
            beside = alongside.finish() if alongside else None
    finally:
        if alongside:
            alongside.close()
        for proc in procs:
            # py-spy writes its samples on SIGINT (and stops the worker), not on SIGTERM
            proc.send_signal(signal.SIGINT if getattr(args, "profile", None) else signal.SIGTERM)
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
        "statements": statements,
        "alongside": beside,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--supporters", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare-workers", action="store_true", help="run with 1 worker, then with --workers")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument(
        "--database",
        default="own",
        help="own (a PostgreSQL cluster of the bench's own, set as the machine's, so that its CPU is the bench's"
        " alone), a PostgreSQL URL to make a scratch database beside, or sqlite",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="flushed before the run")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--message-bytes", type=int, default=5400, help="ceiling's message size before the launch tells it"
    )
    parser.add_argument(
        "--pg-statements",
        action="store_true",
        help="load pg_stat_statements in the bench's own cluster and report the statements that took the most time",
    )
    parser.add_argument("--no-pipelining", action="store_true", help="the sink does not offer PIPELINING")
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="sample the workers with py-spy into PATH-<N>w (collapsed stacks; CPU inflated)",
    )
    parser.add_argument("--dkim", default="none", help="the office's DKIM key: none, rsa2048, rsa1024, ed25519")
    parser.add_argument(
        "--compare-dkim", action="store_true", help="with --workers: unsigned, then each of --dkim-keys, in one run"
    )
    parser.add_argument("--dkim-keys", default="rsa2048", help="the keys --compare-dkim signs with, comma-separated")
    args = parser.parse_args()
    if args.pg_statements and args.database != "own":
        parser.error("--pg-statements needs the bench's own cluster (--database own)")
    with postgres_server(args.database, statements=args.pg_statements) as (args.database, args.postmaster):
        run_bench(args)


def run_bench(args) -> None:
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
        # The ceilings are measured before the launches and after them, and the higher of the two is the one
        # compared against: on a shared machine they move by a third from minute to minute. The pipelined one
        # only when the sink offers PIPELINING, as the service uses it only then.
        kinds = [
            (kind, k) for kind in (("smtplib",) if args.no_pipelining else ("smtplib", "pipelined")) for k in (1, 2)
        ]

        def ceilings_now(size):
            return {(kind, k): ceiling(port, sample, size, k, pipelined=kind == "pipelined") for kind, k in kinds}

        before = ceilings_now(args.message_bytes)
        results = {run: run_launch(args, run[0], port, sink.pid, dkim=run[1]) for run in runs}
        size = next(iter(results.values()))["size"]
        after = ceilings_now(size)
        ceilings = {key: max(before[key], after[key]) for key in kinds}
    finally:
        sink.terminate()
        sink.wait()

    backend = "sqlite" if args.database == "sqlite" else "postgresql"
    print(
        f"backend={backend} supporters={args.supporters} batch={args.batch} message_bytes={size}"
        f" relay_pipelining={'no' if args.no_pipelining else 'yes'}"
    )
    for kind in dict(kinds):
        print(
            f"ceiling, {kind} pushing pre-built messages to the sink: 1 process {ceilings[kind, 1]:,.0f}/s,"
            f" 2 processes {ceilings[kind, 2]:,.0f}/s (the higher of before the launches: {before[kind, 1]:,.0f} /"
            f" {before[kind, 2]:,.0f}, and after: {after[kind, 1]:,.0f} / {after[kind, 2]:,.0f})"
        )
    for (workers, dkim), r in results.items():
        rate = r["delivered"] / r["elapsed"]
        against = ", ".join(f"{rate / ceilings[kind, 2]:.2f} of the 2-process {kind} ceiling" for kind in dict(kinds))
        print(
            f"{workers} worker(s), DKIM {dkim}: launch → last email accepted {r['elapsed']:.1f} s for {r['delivered']:,} emails"
            f" = {rate:,.0f}/s, {against};"
            f" audience planned in {r['planned']:.2f} s; peak RSS per worker {r['peaks_mb']} MB"
        )
        print(
            "   CPU per email, ms: "
            + ", ".join(f"{part} {seconds * 1000 / r['delivered']:.3f}" for part, seconds in r["cpu"].items())
            + f"; all {sum(r['cpu'].values()) * 1000 / r['delivered']:.3f}"
        )
        if r["statements"]:
            print("   PostgreSQL's statements that took the most time, per email:")
            print("\n".join(f"     {line}" for line in r["statements"]))
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
        own = ", ".join(f"{kind} {ceilings[kind, 2] / ceilings[kind, 1]:.2f}x" for kind in dict(kinds))
        print(f"2 workers / 1 worker: {two / one:.2f}x (the ceilings' own 2 processes / 1 process: {own})")
    if any(r["delivered"] != args.supporters for r in results.values()):
        sys.exit("not every email arrived")


if __name__ == "__main__":
    main()
