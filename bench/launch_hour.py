"""The first hour after a big launch: a send through the real workers while recipients open, click and act.

Two launches of the demo's real UA to N supporters, each on a fresh database of the same kind, exactly as
bench/send.py sends them (`run_launch`: the sink bench/sink.py, N `flask worker` processes): first alone, then
while the web, served as in production (gunicorn with gunicorn.conf.py: 4 worker processes of gthread threads, on loopback),
takes what recipients do in the first hour, compressed into the send. The requests use the real tokens of the
emails the sink accepted (it writes each message's tracking links, `--links`), each sent when a recipient would:

- Apple Mail Privacy Protection prefetching the pixel a second or few after delivery (a bare `Mozilla/5.0`, which
  mobilise/tracking/classify.py tells as "apple-mpp"; loopback cannot come from Apple's 17.0.0.0/8);
- security scanners fetching the pixel, every wrapped link and the action page within seconds, by their agents
  ("scanner-agent"), and others that only their network gives away: they come over [::1], which the bench lists in
  TRACKING_MACHINE_NETWORKS ("machine-network") for the web and the workers of both runs;
- people opening over the hour (phones, desktop clients, Gmail's image proxy), a share of them clicking a wrapped
  link or reading the action page, and half of those readers confirming it (POST, the page's form: no field and
  no CSRF token, the link is signed).

bench/load_client.py sends them, in a process of its own: each request at its time on a connection of its own,
open-loop, so the rate is the recipients' (--rate, requests/s: their model scaled to the send rate of the last
seconds) and a slow web shows as latency, not as fewer requests (wrk could not pace them against gunicorn's sync
workers: see load_client.py). The load runs until the sink has every email, or --duration seconds from the
launch; what falls due after that is not sent. Then the web is stopped (its buffered events go to Redis), the stream is flushed into the database
(mobilise.tracking.events.flush_events until nothing waits or is pending), and the database's events, by kind and
by how the service judged them, its actions and the case's counters are compared with what the web answered
2xx/3xx: MISMATCH where they differ.

Reported: p50/p99 of the action page (GET and POST), the pixel and the clicks; the request rate achieved; errors
(non-2xx/3xx, and requests never answered); the send rate under load against the unloaded one; the CPU of each
part; the goals beside them (action page p99 <= 250 ms, loaded send >= 0.7 of unloaded, nothing lost).

    .venv/bin/python bench/launch_hour.py [--supporters 100000] [--workers 2] [--rate 400] [--duration S]
        [--database own|postgresql://...] [--web-workers 4] [--redis redis://127.0.0.1:6379/9]
"""

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import postgres_server  # noqa: E402
from bench.send import cpu_seconds, free_port, run_launch, with_children  # noqa: E402

RECORD = 512  # bytes a request takes in the FIFO: bench/launch_hour.lua reads exactly this
MACHINE_NETWORK = "::1/128"  # the scanners that only their network gives away come from here

AGENTS = {
    "people": [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
        "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.10.1",
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    ],
    "browsers": [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    ],
    "prefetch": ["Mozilla/5.0"],
    "scanner": [
        "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
        "Mimecast-URL-Protect/1.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Barracuda Sentinel",
        "python-requests/2.31.0",
        "",  # no agent at all
    ],
}

# What the recipients of one email do in the first hour, per email, before --rate scales the first four.
MODEL = {
    "prefetch": 0.30,  # Apple Mail's privacy prefetch, 1-8 s after delivery
    "scanner": 0.02,  # a scanner known by its agent: pixel, links, action page, within 4 s
    "network scanner": 0.01,  # a scanner known by its network only
    "open": 0.15,  # a person opens within the hour
    # of those who open: read the action page, or click a wrapped link (two different links of one email within
    # 3 s would be a scanner's burst, so one person does one or the other)
    "read": 0.25,
    "click": 0.08,
    "confirm": 0.5,  # of those who read the action page
}
CLICK_AFTER = 20.0  # s after delivery at the earliest for a person's click: sooner is a scanner's (CLICK_TOO_SOON)

KINDS = {  # the category of each request, and what the database should hold for it
    "open": ("pixel", "open", False, None),
    "open prefetch": ("pixel", "open", True, "apple-mpp"),
    "open scanner": ("pixel", "open", True, "scanner-agent"),
    "open network scanner": ("pixel", "open", True, "machine-network"),
    "click": ("click", "click", False, None),
    "click scanner": ("click", "click", True, None),
    "click network scanner": ("click", "click", True, None),
    "read": ("action page GET", "click", False, None),  # the action page is the email's main link
    "read scanner": ("action page GET", "click", True, None),
    "read network scanner": ("action page GET", "click", True, None),
    "confirm": ("action page POST", None, False, None),
}


class Recipients:
    """Turns each email the sink accepted into the requests its recipient, and the machines, make."""

    def __init__(self, rate: float, hour: float, seed: int = 20):
        self.rate, self.hour = rate, hour
        self.random = random.Random(seed)
        self.per_email = (
            MODEL["prefetch"]
            + MODEL["open"] * (1 + MODEL["read"] * (1 + MODEL["confirm"]) + MODEL["click"])
            + (MODEL["scanner"] + MODEL["network scanner"]) * 6  # pixel, action page, about 4 links
        )
        self.recent: deque[float] = deque()  # acceptance times of the last seconds' emails

    def scale(self, at: float) -> float:
        """The factor on the model that makes --rate at the send rate of the last 3 seconds."""
        self.recent.append(at)
        while self.recent and self.recent[0] < at - 3:
            self.recent.popleft()
        send_rate = max(len(self.recent) / 3, 100.0)
        machines = MODEL["prefetch"] + MODEL["scanner"] + MODEL["network scanner"]
        return min(self.rate / (send_rate * self.per_email), 1 / machines)

    def of(self, at: float, paths: list[str]):
        """(due, kind, method, path, agent, family) for one email accepted at `at`."""
        pixel = next((p for p in paths if p.startswith("/o/")), None)
        act = next((p for p in paths if p.startswith("/act/")), None)
        links = [p for p in paths if p.startswith("/c/")]
        if not (pixel and act):
            raise SystemExit(f"an email without its pixel or action link: {paths}")
        rnd, f = self.random, self.scale(at)
        draw = rnd.random() / f  # below a share p with the chance p * f; one draw, the machines exclude each other
        if draw < MODEL["prefetch"]:
            yield at + rnd.uniform(1, 8), "open prefetch", "GET", pixel, AGENTS["prefetch"][0], "v4"
        elif draw < MODEL["prefetch"] + MODEL["scanner"] + MODEL["network scanner"]:
            network = draw >= MODEL["prefetch"] + MODEL["scanner"]
            who = "network scanner" if network else "scanner"
            # One known by its network alone shows a browser's agent (not a mail proxy's: that rule comes first).
            agent = rnd.choice(AGENTS["browsers" if network else "scanner"])
            start = at + rnd.uniform(0, 2)
            for step, (kind, path) in enumerate([("open", pixel), *(("click", link) for link in links), ("read", act)]):
                yield start + step * 0.2, f"{kind} {who}", "GET", path, agent, "v6" if network else "v4"
        if rnd.random() / f < MODEL["open"]:
            agent = rnd.choice(AGENTS["people"])
            opened = at + min(rnd.expovariate(4 / self.hour), self.hour)
            yield opened, "open", "GET", pixel, agent, "v4"
            then = max(opened + rnd.uniform(2, 15), at + CLICK_AFTER)
            choice = rnd.random()
            if choice < MODEL["read"]:
                yield then, "read", "GET", act, agent, "v4"
                if rnd.random() < MODEL["confirm"]:
                    yield then + rnd.uniform(5, 20), "confirm", "POST", act, agent, "v4"
            elif choice < MODEL["read"] + MODEL["click"] and links:
                yield then, "click", "GET", rnd.choice(links), agent, "v4"


class LoadClient:
    """bench/load_client.py in its own process: each request handed to it is sent at its due time."""

    def __init__(self, port: int, answers: Path):
        self.answers = answers
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "load_client.py"), "127.0.0.1", "::1", str(port), str(answers)],
            stdin=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        self.lock = threading.Lock()

    def send(self, request_id: int, family: str, method: str, path: str, agent: str, due: float) -> None:
        with self.lock:
            self.process.stdin.write(f"{request_id}\t{family}\t{method}\t{path}\t{agent}\t{due:.6f}\n")

    def stop(self, until: float) -> list[tuple[int, int, float, float, float]]:
        """Nothing due after `until` is sent; the answers of what was, once the last is in."""
        with self.lock:
            self.process.stdin.write(f"end\t{until:.6f}\n")
            self.process.stdin.close()
        self.process.wait(timeout=600)
        rows = []
        for line in self.answers.read_text().splitlines():
            request_id, status, latency, lag, at = line.split()
            rows.append((int(request_id), int(status), float(latency), float(lag), float(at)))
        return rows


class LaunchHour:
    """bench/send.py's run_launch is told of the run (`alongside`): this serves the web and loads it meanwhile."""

    def __init__(self, args, links: Path, hour: float):
        self.args, self.links, self.hour = args, links, hour
        self.web = None
        self.client: LoadClient | None = None
        self.requests: dict[int, tuple] = {}  # id → (kind, method, path, family)
        self.go, self.stopping = threading.Event(), threading.Event()
        self.feeder = None

    def prepare(self, env: dict) -> None:
        port = free_port()
        web_env = dict(env, TRACKING_MACHINE_NETWORKS=MACHINE_NETWORK)
        self.web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--bind", f"[::1]:{port}", "--workers", str(self.args.web_workers), "app:app"],
            cwd=ROOT, env=web_env, stdout=subprocess.DEVNULL, stderr=open(self.links.parent / "web.log", "w"),  # noqa: SIM115 (the child keeps it)
        )  # fmt: skip
        for base in (f"http://127.0.0.1:{port}", f"http://[::1]:{port}"):
            for _ in range(200):
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(base + "/healthz", timeout=2).read()
                    break
                time.sleep(0.1)
            else:
                raise SystemExit(f"the web did not answer on {base}")
        self.client = LoadClient(port, self.links.parent / "answers")
        self.offset = self.links.stat().st_size  # the unloaded run's emails are not this run's
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.feeder.start()

    def launched(self, started: float) -> None:
        self.started = started
        self.cpu_before = self._cpu()
        self.go.set()

    def _cpu(self) -> dict[str, float]:
        return {
            "web": cpu_seconds(with_children(self.web.pid)),
            "load client": cpu_seconds([self.client.process.pid]),
        }

    def _feed(self) -> None:
        """Read the emails the sink accepted as they come, and hand each one's requests to the load client."""
        self.go.wait()
        recipients = Recipients(self.args.rate, self.hour)
        last = self.started + self.args.duration if self.args.duration else float("inf")
        rest = ""
        with open(self.links) as links:
            links.seek(self.offset)
            while not self.stopping.is_set():
                lines = (rest + links.read()).split("\n")
                rest = lines.pop()  # a line the sink has not finished writing
                for line in lines:
                    at, *paths = line.split()
                    for due, kind, method, path, agent, family in recipients.of(float(at), paths):
                        if due <= last:
                            request_id = len(self.requests)
                            self.requests[request_id] = (kind, method, path, family)
                            self.client.send(request_id, family, method, path, agent, due)
                time.sleep(0.01)

    def finish(self) -> dict:
        from redis import Redis

        from mobilise.cases.models import Action
        from mobilise.dashboard.service import case_stats
        from mobilise.extensions import db
        from mobilise.models import Case
        from mobilise.tokens import read_token
        from mobilise.tracking.events import GROUP, STREAM, flush_events
        from mobilise.tracking.models import Event

        send_ended = time.monotonic()
        until = self.started + self.args.duration if self.args.duration else send_ended
        time.sleep(max(0.0, until - time.monotonic()))
        self.stopping.set()
        self.feeder.join()
        cpu_after = self._cpu()  # before the load client exits and its figures with it
        answers = self.client.stop(until)
        load_ended = time.monotonic()
        self.web.terminate()  # a graceful stop: each web worker sends what it buffered to Redis
        self.web.wait(timeout=60)
        flushed = 0
        client = Redis.from_url(self.args.redis)
        waited = time.monotonic()
        # Until nothing waits in the stream and nothing read is unacknowledged; an entry a dead reader left is
        # claimed once idle a minute (CLAIM_AFTER_MS), so this may take that long.
        while time.monotonic() - waited < 150:
            flushed += flush_events()
            pending = client.xpending(STREAM, GROUP)["pending"] if client.exists(STREAM) else 0
            length = client.xlen(STREAM)
            if not length and not pending:
                break
            time.sleep(0.5)
        stream = {"length": length, "pending": pending, "seconds": time.monotonic() - waited}
        web_log = (self.links.parent / "web.log").read_text(errors="replace").splitlines()
        troubles = [line for line in web_log if re.search(r"WARNING|ERROR|Traceback|Error", line)]
        ok = {request_id for request_id, status, *_ in answers if 200 <= status < 400}
        expected = Counter()
        opened, opened_human, clicked = set(), set(), set()
        confirmed = 0
        for request_id in ok:
            kind, method, path, family = self.requests[request_id]
            _, event, machine, reason = KINDS[kind]
            token = path.split("/")[2].removesuffix(".gif")
            delivery = read_token({"pixel": "open", "click": "click"}.get(KINDS[kind][0], "act"), token,
                                  arity=2 if KINDS[kind][0] == "click" else 1)[0]  # fmt: skip
            if event == "open":
                expected["open", machine] += 1
                expected["open", machine, reason or "person"] += 1
                opened.add(delivery)
                if not machine:
                    opened_human.add(delivery)
            elif event == "click":
                expected["click", machine] += 1
                if not machine:
                    clicked.add(delivery)
            else:
                confirmed += 1
        db.session.expire_all()
        found = Counter()
        for kind, machine, reason, count in db.session.execute(
            db.select(Event.kind, Event.machine, Event.reason, db.func.count()).group_by(
                Event.kind, Event.machine, Event.reason
            )
        ):
            found[kind, machine] += count
            if kind == "open":
                found[kind, machine, reason if machine else "person"] += count
        case = db.session.scalar(db.select(Case))
        totals = case_stats(case)["totals"]
        checks = [
            (f"events: {kind} {'machine' if machine else 'person'}", found[key], expected[key])
            for key in sorted(set(found) | set(expected), key=str)
            if len(key) == 2
            for kind, machine in [key]
        ]
        checks += [
            (f"   of them {key[2]}", found[key], expected[key])
            for key in sorted(set(found) | set(expected), key=str)
            if len(key) == 3 and key[1]
        ]
        checks += [
            ("actions", db.session.scalar(db.select(db.func.count()).select_from(Action)), confirmed),
            ("stats: opened", totals["opened"], len(opened)),
            ("stats: opened_human", totals["opened_human"], len(opened_human)),
            ("stats: clicked", totals["clicked"], len(clicked)),
            ("stats: acted", totals["acted"], confirmed),
        ]
        return {
            "answers": answers,
            "requests": dict(self.requests),
            "checks": checks,
            "load_seconds": load_ended - self.started,
            "send_ended": send_ended - self.started,
            "started": self.started,
            "cpu": {part: cpu_after[part] - self.cpu_before[part] for part in cpu_after},
            "flushed": flushed,
            "stream": stream,
            "web troubles": troubles,
        }

    def close(self) -> None:
        self.stopping.set()
        if self.client and self.client.process.poll() is None:
            self.client.process.kill()
        if self.web and self.web.poll() is None:
            self.web.kill()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")


def report(args, unloaded: dict, loaded: dict, machine: str) -> bool:
    beside = loaded["alongside"]
    requests = beside["requests"]
    dropped = sum(1 for a in beside["answers"] if a[1] == -1)  # due, never sent: every connection was busy
    answers = [a for a in beside["answers"] if a[1] != -1]
    answered = {a[0] for a in answers if a[1]}
    by_path = defaultdict(list)
    statuses: Counter = Counter()
    for request_id, status, latency, lag, _ in answers:
        statuses[status] += 1
        if status:
            by_path[KINDS[requests[request_id][0]][0]].append((latency, lag))
    errors = sum(n for status, n in statuses.items() if status and not 200 <= status < 400)
    unanswered = len(answers) - len(answered)  # sent, and no answer came
    kinds = Counter(requests[request_id][0] for request_id, *_ in answers)
    first = min((a[4] - a[2] / 1000 for a in answers), default=0)
    last = max((a[4] for a in answers), default=0)
    achieved = len(answers) / (last - first) if last > first else 0
    rate_unloaded = unloaded["delivered"] / unloaded["elapsed"]
    rate_loaded = loaded["delivered"] / loaded["elapsed"]
    ratio = rate_loaded / rate_unloaded
    act = [latency for latency, _ in by_path["action page GET"]]
    act_p99 = percentile(act, 99)
    mismatches = [(name, found, wanted) for name, found, wanted in beside["checks"] if found != wanted]

    print(f"machine when measured: {machine}")
    print(
        f"backend=postgresql supporters={args.supporters} workers={args.workers} (nice {args.worker_nice}) web: gunicorn {args.web_workers}"
        f" worker processes ({os.environ.get('GUNICORN_CMD_ARGS') or 'gunicorn.conf.py'}); load client open-loop;"
        f" target {args.rate:.0f} req/s"
    )
    print(f"send alone:      {unloaded['delivered']:,} emails in {unloaded['elapsed']:.1f} s = {rate_unloaded:,.0f}/s")
    print(
        f"send under load: {loaded['delivered']:,} emails in {loaded['elapsed']:.1f} s = {rate_loaded:,.0f}/s"
        f"  ({ratio:.2f} of alone)"
    )
    for name, run in (("alone", unloaded), ("under load", loaded)):
        cpu = dict(run["cpu"], **(run["alongside"]["cpu"] if run["alongside"] else {}))
        print(
            f"   CPU per email {name}, ms: "
            + ", ".join(f"{part} {seconds * 1000 / run['delivered']:.3f}" for part, seconds in cpu.items())
        )
    print(
        f"load: {len(answers):,} requests sent over {beside['load_seconds']:.1f} s from the launch ({achieved:.0f}"
        f" req/s while answered), {len(answered):,} answered: "
        + ", ".join(f"{n:,} {kind}" for kind, n in sorted(kinds.items()))
    )
    print(
        f"   statuses (0: no answer): {dict(sorted(statuses.items()))}; due but never sent, the client's"
        f" {64} connections all waiting on the web: {dropped:,}"
    )
    print(
        f"{'path':<18} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'late p99 ms':>12}"
        f" {'waited p50/p99 ms (late + latency)':>36}"
    )
    for path in ("pixel", "click", "action page GET", "action page POST"):
        rows = by_path[path]
        latencies = [latency for latency, _ in rows]
        lags = [lag for _, lag in rows]
        waited = [latency + lag for latency, lag in rows]
        print(
            f"{path:<18} {len(rows):>9,} {percentile(latencies, 50):>8.1f} {percentile(latencies, 99):>8.1f}"
            f" {max(latencies, default=float('nan')):>8.1f} {percentile(lags, 99):>12.1f}"
            f" {percentile(waited, 50):>26.1f} / {percentile(waited, 99):.1f}"
        )
    print(
        f"flush: {beside['flushed']:,} events written by the bench's flush; the stream then {beside['stream']};"
        f" the web's log: {len(beside['web troubles'])} warnings or errors"
    )
    for line in beside["web troubles"][:8]:
        print(f"   {line[:200]}")
    print("counted (database after the flush) against answered 2xx/3xx:")
    for name, found, wanted in beside["checks"]:
        print(f"   {name:<40} {found:>8,} / {wanted:>8,}{'' if found == wanted else '   <-- MISMATCH'}")
    if mismatches:
        print("\n!!!!!!!! MISMATCH: " + "; ".join(f"{n} {f} counted, {w} answered" for n, f, w in mismatches) + "\n")
    goals = [
        ("action page p99 <= 250 ms", act_p99 <= 250, f"{act_p99:.1f} ms"),
        ("send under load >= 0.7 of alone", ratio >= 0.7, f"{ratio:.2f}"),
        ("nothing lost", not mismatches, "every event and action counted" if not mismatches else "MISMATCH"),
        ("no errors", errors == 0 and unanswered == 0, f"{errors} non-2xx/3xx, {unanswered} unanswered"),
        ("every request due sent", dropped == 0, f"{dropped:,} never sent (the web behind)"),
    ]
    print(f"\n{'goal':<34} {'measured':<32} met")
    for goal, met, measured in goals:
        print(f"{goal:<34} {measured:<32} {'yes' if met else 'NO'}")
    print(
        f"{'request rate (target ' + format(args.rate, '.0f') + '/s)':<34} {achieved:<32.0f} "
        f"{'yes' if achieved >= 0.8 * args.rate else 'below'}"
    )
    return not mismatches


def machine_load() -> str:
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return uptime.split("load average:")[-1].strip().join(["load average ", ""])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--supporters", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="flask worker processes sending")
    parser.add_argument("--rate", type=float, default=400, help="requests/s the recipients make, as a target")
    parser.add_argument("--duration", type=float, help="seconds of load from the launch (default: until the send ends)")
    parser.add_argument(
        "--hour", type=float, help="seconds the first hour is compressed into (default: the send alone's)"
    )
    parser.add_argument("--database", default="own", help="own (a PostgreSQL cluster of the bench's own) or a URL")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="run the sending workers under nice -n N (both runs): the web's visitors go first on a shared machine",
    )
    parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 4)))
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9", help="flushed before each run")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.database == "sqlite":
        parser.error("the web and the workers write at once: PostgreSQL (own or a URL)")
    args.pg_statements = False
    # The workers judge the events they write: they must know the scanners' network, in both runs alike.
    os.environ["TRACKING_MACHINE_NETWORKS"] = MACHINE_NETWORK
    own = postgres_server(args.database)
    links = Path(tempfile.mkdtemp(prefix="mobilise-launch-hour-sink-")) / "links"
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "sink.py"), str(port), "--links", str(links)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        sink.stdout.readline()
        with own as (args.database, args.postmaster):
            before = machine_load()
            unloaded = run_launch(args, args.workers, port, sink.pid)
            print(f"send alone: {unloaded['delivered'] / unloaded['elapsed']:,.0f}/s", flush=True)
            hour = args.hour or unloaded["elapsed"]
            loaded = run_launch(args, args.workers, port, sink.pid, alongside=LaunchHour(args, links, hour))
            after = machine_load()
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(links.parent, ignore_errors=True)
    whole = report(args, unloaded, loaded, f"{before} before, {after} after")
    if args.json:
        beside = loaded["alongside"]
        Path(args.json).write_text(
            json.dumps(
                {
                    "checks": beside["checks"],
                    "started": beside["started"],
                    "send_ended": beside["send_ended"],
                    # id, kind, status, latency ms, lag ms, answered at (CLOCK_MONOTONIC)
                    "answers": [(a[0], beside["requests"][a[0]][0], *a[1:]) for a in beside["answers"]],
                },
                default=str,
            )
        )
    if any(r["delivered"] != args.supporters for r in (unloaded, loaded)):
        sys.exit("not every email arrived")
    if not whole:
        sys.exit("MISMATCH: not every event or action was counted")


if __name__ == "__main__":
    main()
