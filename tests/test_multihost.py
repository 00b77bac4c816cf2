"""Workers on several hosts: five hosts made of Linux network namespaces on a private switch (tests/netns.py), and a
30,000-email launch shared by the workers of two of them, one of which dies whole mid-send.

    data   10.200.0.1   a fresh PostgreSQL cluster (initdb) and a fresh redis-server, listening there only
    relay  10.200.0.2   the SMTP relay (bench/sink.py, recording who received what, from which host, when)
    web    10.200.0.3   gunicorn, and the operator's commands (`flask db upgrade`, `office create`, an import)
    w1     10.200.0.11  two `flask worker` processes
    w2     10.200.0.12  two `flask worker` processes: every process on it SIGKILLed at the 10,000th email

Nothing reaches PostgreSQL or Redis but through that network (the hosts cannot reach the machine's own on
127.0.0.1, which the test checks). Every supporter must get exactly one email (beyond, at most, the one each of
w2's connections had in flight at the kill: the contract's allowance, which the test names address by address),
both hosts must have sent, and the survivor must finish. It prints the send rate before and after the kill, how
long the dead host's unfinished batches waited to be handed out again (its lease, then a tick) and how long until
they were all delivered, and the database connections the hosts held.

Needs root and iproute2 (as CI has); where `ip netns add` is refused, it fails saying so.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from .conftest import ROOT
from .netns import Hosts, NamespacesRefused, alive, clean_leftovers

AUDIENCE = 30_000
KILL_AT = 10_000  # emails received when w2 dies
WORKERS_PER_HOST = 2
# Shorter than the defaults (30 s, 60 s) to keep the test short: a dead host's batches wait out the lease, then
# the next tick hands them out again, so recovery takes about LEASE + TICK (up to 90 s with the defaults).
LEASE_SECONDS, TICK_SECONDS = 10, 5
HOSTS = {"data": 1, "relay": 2, "web": 3, "w1": 11, "w2": 12}
WORKER_HOSTS = ("w1", "w2")
TMP_PREFIX = "mobilise-multihost-"
OFFICE = ["--name", "Amnesty UK", "--language", "en", "--timezone", "Europe/London", "--sender", "ua@uk.example.org"]
CONNECTS = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)"


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        pytest.fail("no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    return found[-1].parent


def remove_stale_folders() -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{TMP_PREFIX}*"):
        match = re.match(rf"{TMP_PREFIX}(\d+)-", folder.name)
        if match and not alive(int(match[1])):
            shutil.rmtree(folder, ignore_errors=True)


class Deployment:
    """The service spread over the hosts: what runs where, and how the test reaches it (through the hosts)."""

    def __init__(self, hosts: Hosts, base: Path):
        self.hosts, self.base = hosts, base
        self.processes: dict[str, list[subprocess.Popen]] = {host: [] for host in HOSTS}
        self.pg = postgres_bin()
        self.data = hosts.address("data")
        self.database_url = f"postgresql://postgres@{self.data}:5432/mobilise"
        self.record = base / "relay.record"

    def env(self, host: str) -> dict[str, str]:
        """What each process of the service needs (README, *Scaling out*), and nothing from the test's own
        environment: the same on every host but for its instance folder."""
        return {
            "PATH": os.environ["PATH"],
            "LANG": "C.UTF-8",
            "HOME": str(self.base),
            "MOBILISE_ENV": "production",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://{self.data}:6379/0",
            "SECRET_KEY": "multihost-test-secret",
            "PUBLIC_BASE_URL": "https://act.example.org",
            "MAIL_SERVER": self.hosts.address("relay"),
            "MAIL_PORT": "2525",
            "SEND_LEASE_SECONDS": str(LEASE_SECONDS),
            "TICK_SECONDS": str(TICK_SECONDS),
            "INSTANCE_PATH": str(self.base / host),
        }

    def start(self, host: str, args: list[str], log: str, **kwargs) -> subprocess.Popen:
        process = self.hosts.popen(host, args, log=self.base / log, start_new_session=True, **kwargs)
        self.processes[host].append(process)
        return process

    def as_postgres(self, args: list[str]) -> list[str]:
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *args]

    def start_data(self) -> None:
        pgdata = self.base / "pgdata"
        pgdata.mkdir(mode=0o700)
        shutil.chown(pgdata, "postgres", "postgres")
        initdb = subprocess.run(
            self.as_postgres(
                [str(self.pg / "initdb"), "-D", str(pgdata), "-U", "postgres", "-A", "trust", "--no-sync"]
                + ["-E", "UTF8", "--locale", "C.UTF-8"]
            ),
            capture_output=True,
            text=True,
        )
        assert initdb.returncode == 0, initdb.stderr
        (pgdata / "pg_hba.conf").write_text("local all all trust\nhost all all 10.200.0.0/24 trust\n")
        self.start(
            "data",
            self.as_postgres(
                [str(self.pg / "postgres"), "-D", str(pgdata), "-c", f"listen_addresses={self.data}"]
                + ["-c", "port=5432", "-c", f"unix_socket_directories={pgdata}"]
            ),
            "postgres.log",
        )
        self.start(
            "data",
            ["redis-server", "--bind", self.data, "--port", "6379", "--save", "", "--appendonly", "no"]
            + ["--protected-mode", "no", "--dir", str(self.base)],
            "redis.log",
        )

    def start_relay(self) -> None:
        relay = self.hosts.address("relay")
        self.start(
            "relay",
            [sys.executable, str(ROOT / "bench" / "sink.py"), "2525", "--host", relay, "--record", str(self.record)],
            "relay.log",
        )

    def wait_for(self, what: str, host: str, args: list[str], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (answer := self.hosts.run(host, args)).returncode:
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not come up on {host}: {answer.stdout}{answer.stderr}\n{self.logs()}")
            time.sleep(0.2)

    def flask(self, host: str, *args: str, timeout: float = 120) -> str:
        done = self.hosts.run(
            host, [sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env(host), timeout=timeout
        )
        assert done.returncode == 0, f"flask {' '.join(args)} on {host}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def psql(self, sql: str) -> str:
        done = self.hosts.run(
            "web", ["psql", "-h", self.data, "-U", "postgres", "-d", "mobilise", "-Atqc", sql], timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """The web's API over the hosts' network, from the web host (the token in a file, not on a command line)."""
        done = self.hosts.run(
            "web",
            ["curl", "-sS", "--fail-with-body", "-X", method, "-H", f"@{self.base / 'headers'}"]
            + ["-H", "Content-Type: application/json", "--data-binary", "@-"] * (body is not None)
            + [f"http://{self.hosts.address('web')}:8000/api/v1{path}"],
            input=json.dumps(body) if body is not None else None,
            timeout=60,
        )
        assert done.returncode == 0, f"{method} {path}: {done.stdout} {done.stderr}"
        return json.loads(done.stdout)

    def start_worker(self, host: str, n: int) -> None:
        worker = [sys.executable, "-m", "flask", "--app", "app", "worker"]
        self.start(host, worker, f"{host}-worker{n}.log", cwd=ROOT, env=self.env(host))

    def up(self, audience: list[str]) -> None:
        """Every host's processes started, the schema made, office GB with `audience` imported, an admin's token
        kept for the API, and the web and every worker ready."""
        hosts, data, web = self.hosts, self.data, self.hosts.address("web")
        self.start_data()
        self.start_relay()
        self.wait_for("PostgreSQL", "web", ["pg_isready", "-q", "-h", data, "-p", "5432"])
        self.wait_for("Redis", "web", ["redis-cli", "-h", data, "ping"])
        self.wait_for("the relay", "web", [sys.executable, "-c", CONNECTS, hosts.address("relay"), "2525"])
        # The hosts reach each other and nothing else: not the machine's own PostgreSQL and Redis.
        for port in ("5432", "6379"):
            probe = hosts.run("w1", [sys.executable, "-c", CONNECTS, "127.0.0.1", port])
            assert probe.returncode != 0 and "Connection refused" in probe.stderr, (port, probe.stderr)

        created = hosts.run("web", ["psql", "-h", data, "-U", "postgres", "-qc", "CREATE DATABASE mobilise"])
        assert created.returncode == 0, created.stderr
        self.flask("web", "db", "upgrade")
        gunicorn = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers", "1"]
        self.start("web", [*gunicorn, "--bind", f"{web}:8000", "app:app"], "web.log", cwd=ROOT, env=self.env("web"))
        for host in WORKER_HOSTS:
            for n in range(WORKERS_PER_HOST):
                self.start_worker(host, n)

        self.flask("web", "office", "create", "GB", *OFFICE)
        self.flask("web", "staff", "create", "admin@example.org", "--admin")
        token = self.flask("web", "staff", "token", "admin@example.org").strip().splitlines()[-1]
        (self.base / "headers").write_text(f"Authorization: Bearer {token}\n")
        csv = self.base / "supporters.csv"
        csv.write_text("email,first_name\n" + "".join(f"{a},S{n}\n" for n, a in enumerate(audience)))
        imported = self.flask("web", "supporters", "import", str(csv), "--office", "GB")
        assert f"created {len(audience)}," in imported, imported

        self.wait_for("the web", "web", ["curl", "-sf", f"http://{web}:8000/healthz"])
        workers = WORKERS_PER_HOST * len(WORKER_HOSTS)
        registered = ["sh", "-c", f"test $(redis-cli -h {data} scard rq:workers) -eq {workers}"]
        self.wait_for(f"{workers} workers", "web", registered, timeout=60)

    def logs(self, lines: int = 15) -> str:
        """The tail of every process's log, for a failure's message."""
        tails = []
        for log in sorted(self.base.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(tails)

    def stop(self) -> None:
        for process in self.processes["data"][:1]:  # PostgreSQL: an immediate shutdown frees its shared memory
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        self.hosts.destroy()
        for processes in self.processes.values():
            for process in processes:
                process.wait()


@pytest.fixture
def deployment():
    clean_leftovers()
    remove_stale_folders()
    base = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-"))
    base.chmod(0o755)  # PostgreSQL's own user keeps its data folder here
    hosts = Hosts(HOSTS)
    made = Deployment(hosts, base)
    try:
        try:
            hosts.create()
        except NamespacesRefused as refused:
            pytest.fail(
                f"{refused}. The multi-host test builds its hosts as network namespaces: it needs root "
                "(CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2, as CI has."
            )
        yield made
    finally:
        made.stop()
        shutil.rmtree(base, ignore_errors=True)


class Received:
    """What the relay has received, read from its record as it grows: (time, client ip, client port, address)."""

    def __init__(self, path: Path):
        self.path, self.offset, self.rest = path, 0, ""
        self.lines: list[tuple[float, str, str, str]] = []
        self.by_host: Counter = Counter()

    def read(self) -> int:
        if self.path.exists():
            with open(self.path) as record:
                record.seek(self.offset)
                chunk = record.read()
                self.offset = record.tell()
            *whole, self.rest = (self.rest + chunk).split("\n")
            for line in whole:
                at, client, address = line.split()
                host, port = client.rsplit(":", 1)
                self.lines.append((float(at), host, port, address))
                self.by_host[host] += 1
        return len(self.lines)


SENDING = (
    "SELECT d.claim, s.email FROM deliveries d JOIN supporters s ON s.id = d.supporter_id WHERE d.status = 'sending'"
)
STATUSES = "SELECT status, count(*) FROM deliveries GROUP BY 1"


def rate(lines, start: float, end: float, host: str | None = None) -> float:
    sent = sum(1 for at, ip, _, _ in lines if start <= at <= end and host in (None, ip))
    return sent / (end - start) if end > start else 0.0


def test_a_launch_shared_by_workers_on_two_hosts_reaches_everyone_once_when_one_host_dies(deployment):
    hosts = deployment.hosts
    audience = [f"supporter{n}@multihost.example.net" for n in range(AUDIENCE)]
    deployment.up(audience)
    case = json.loads((ROOT / "mobilise" / "demo_data" / "case.json").read_text(encoding="utf-8"))
    case["deadline"] = (date.today() + timedelta(days=30)).isoformat()
    case_id = deployment.api("POST", "/cases", case)["id"]
    launched_at = time.monotonic()
    drive = deployment.api("POST", f"/cases/{case_id}/launch", {"office": "GB"})
    mailing = next(m["id"] for m in drive["mailings"] if m["stage"] == "launch")

    received = Received(deployment.record)
    w1, w2 = hosts.address("w1"), hosts.address("w2")
    poll = (
        "SELECT json_build_object("
        "'claims', (SELECT coalesce(json_agg(id), '[]') FROM send_claims), "
        f"'status', (SELECT status FROM mailings WHERE id = {mailing}), "
        "'connections', (SELECT coalesce(json_object_agg(host, n), '{}') FROM (SELECT coalesce(host(client_addr), 'local') AS host, "
        "count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' "
        "AND pid <> pg_backend_pid() GROUP BY 1) c))"
    )
    peak_connections: Counter = Counter()

    def observe() -> dict:
        state = json.loads(deployment.psql(poll))
        for host, n in state["connections"].items():
            peak_connections[host] = max(peak_connections[host], n)
        return state

    deadline = launched_at + 120
    while not (received.read() >= KILL_AT and received.by_host[w1] and received.by_host[w2]):
        if time.monotonic() > deadline:
            sent = f"{received.read()} emails (by host {dict(received.by_host)})"
            pytest.fail(f"{sent} 120 s after the launch\n{deployment.logs()}")
        observe()
        time.sleep(0.2)

    killed = hosts.kill_host("w2")
    killed_at = time.monotonic()
    for process in deployment.processes["w2"]:
        process.wait()
    # What was being sent at the kill: each open claim's deliveries still `sending` (those sent but not yet applied
    # among them). A claim is w2's when the relay received one of its addresses from w2.
    sending = [line.split("|") for line in deployment.psql(SENDING).splitlines()]
    received.read()
    host_of = {address: ip for at, ip, _, address in received.lines if at <= killed_at}
    dead_claims = {claim for claim, address in sending if host_of.get(address) == w2}
    stranded = {address for claim, address in sending if claim in dead_claims and address not in host_of}

    handed_out_at = None
    deadline = killed_at + 180
    while True:
        state = observe()
        received.read()
        if handed_out_at is None and not dead_claims & set(state["claims"]):
            handed_out_at = time.monotonic()
        if state["status"] == "sent" and len({a for *_, a in received.lines}) >= AUDIENCE:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"{state}, {received.read()} emails 180 s after the kill\n{deployment.logs()}")
        time.sleep(0.5)
    time.sleep(0.3)  # the relay's record flushes every tenth of a second
    received.read()

    counts = Counter(address for *_, address in received.lines)
    assert set(counts) == set(audience), f"{len(set(audience) - set(counts))} supporters got nothing"
    # The one email each of w2's open sessions may have had in flight (the contract's allowance): accepted by the
    # relay, not yet journalled; the last address of a connection whose claim was still open at the kill.
    last_of_connection = {port: address for at, ip, port, address in received.lines if ip == w2 and at <= killed_at}
    in_flight = set(last_of_connection.values()) & {address for _, address in sending}
    twice = {address: n for address, n in counts.items() if n > 1}
    assert set(twice) <= in_flight and set(twice.values()) <= {2}, (twice, in_flight)
    after_kill = [line for line in received.lines if line[0] > killed_at]
    assert received.by_host[w2] > 0, "w2 sent nothing before it died"
    assert after_kill and {ip for _, ip, _, _ in after_kill} == {w1}, "w1 alone sends after the kill"
    statuses = dict(line.split("|") for line in deployment.psql(STATUSES).splitlines())
    assert statuses == {"sent": str(AUDIENCE)}, statuses
    assert deployment.api("GET", f"/cases/{case_id}/stats")["totals"]["sent"] == AUDIENCE

    lines = received.lines
    first_at, last_at = lines[0][0], max(at for at, *_ in lines)
    delivered_at = max((at for at, _, _, address in lines if address in stranded), default=killed_at)
    # The survivor's own rate: up to its last email that was not the dead host's (then it waits for those).
    own_until = max(at for at, _, _, address in lines if address not in stranded)
    names = {hosts.address(host): host for host in HOSTS}
    before = f"w1 {rate(lines, first_at, killed_at, w1):,.0f}/s, w2 {rate(lines, first_at, killed_at, w2):,.0f}/s"
    print(
        f"\nmultihost: {AUDIENCE:,} emails, {WORKERS_PER_HOST} workers on each of {len(WORKER_HOSTS)} hosts; launch →"
        f" last email {last_at - launched_at:.1f} s ({AUDIENCE / (last_at - launched_at):,.0f}/s overall), the first"
        f" {first_at - launched_at:.1f} s after the launch call\n"
        f"  before the kill, both hosts: {rate(lines, first_at, killed_at):,.0f}/s ({before});"
        f" after it, w1 alone: {rate(lines, killed_at, own_until, w1):,.0f}/s until its own work ran out\n"
        f"  w2 killed ({killed} processes) at email {sum(1 for line in lines if line[0] <= killed_at):,}:"
        f" {len(stranded):,} emails left in {len(dead_claims)} claims, handed out again"
        f" {handed_out_at - killed_at:.1f} s after the kill (lease {LEASE_SECONDS} s, tick {TICK_SECONDS} s),"
        f" all delivered {delivered_at - killed_at:.1f} s after it\n"
        f"  sent by w1 {received.by_host[w1]:,}, by w2 {received.by_host[w2]:,}; sent twice {len(twice)}"
        f" (in flight at the kill: at most {len(in_flight)}); database connections seen at most: "
        + ", ".join(f"{names.get(ip, ip)} {n}" for ip, n in sorted(peak_connections.items()))
    )
