"""Every console page and API listing staff open, at a million supporters, on PostgreSQL, beside COUNT(*).

Builds a scratch database (bench/console_fill.py says how): five offices sharing --supporters supporters (names in
several scripts, accents, tags, consent histories), one launch email per drive sent while --deliveries last, --events
opens, clicks and unsubscribes, actions, a year of audit trail, a receiver of webhooks out with its log, the counters
rebuilt from the rows; then VACUUM ANALYZE, as autovacuum would have done by the time staff look. Then, through the
app in this process (Flask's test client, signed in as the biggest office's manager, or as the admin where a page is
the admin's, the API with their tokens), each page --calls times a round (after one warm-up, and no longer than
--budget seconds), over --rounds rounds, beside `SELECT count(*) FROM supporters` in the same rounds. Each answer is
checked (status, and what the page must show: the supporter searched for, the count, the row). Figures are the
median over rounds of each round's p50 and p95; goal: every page's p95 ≤ 200 ms.

The exports (the suppression list, console and API; the whole supporter list through the API, 500 a page, by
`?page=` and by `?after=`) are streamed to the end and report rows/s and the growth of this process's resident memory while they ran
(sampled every few ms), for the biggest office and the smallest: flat memory means the same growth for both.

    .venv/bin/python bench/console.py [--supporters 1000000] [--deliveries N] [--events 3N] [--calls 15] [--rounds 3]
    .venv/bin/python bench/console.py --supporters 20000 --calls 5 --rounds 1     # a smoke run, well under a minute

`--keep` leaves the scratch database (its URL printed); `--on URL` times a database a kept run filled, after
`flask db upgrade` (so a migration is measured on the same rows); `--only REGEX` times the pages whose name matches.
"""

import argparse
import json
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import drop_database, make_database  # noqa: E402

GOAL_MS = 200


def fill(db, sizes: dict) -> None:
    from bench.console_fill import Filler
    from mobilise.dashboard.recount import recount

    filler = Filler(db, sizes)
    steps = [
        ("offices, staff, cases, drives (the service)", lambda: filler.world()),
        ("supporters and tags", lambda: filler.supporters(world)),
        ("deliveries and bounces", lambda: filler.sends(world)),
        ("consent histories", filler.consent),
        ("events", filler.events),
        ("actions", filler.actions),
        ("audit trail", lambda: filler.audit(world)),
        ("webhooks out", lambda: filler.webhooks(world)),
        ("an import", lambda: filler.imports(world)),
    ]
    world = None
    for name, step in steps:
        start = time.perf_counter()
        result = step()
        if world is None:
            world = result
        db.session.commit()
        print(f"  {name:<46} {time.perf_counter() - start:6.1f} s", flush=True)
    start = time.perf_counter()
    recount(list(world["drives"].values()))
    print(f"  {'counters rebuilt from the rows (recount)':<46} {time.perf_counter() - start:6.1f} s", flush=True)


def vacuum(url: str) -> None:
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"  {'VACUUM ANALYZE':<46} {time.perf_counter() - start:6.1f} s", flush=True)


def world_of(db) -> dict:
    """What the pages need, read back from the rows (so a kept database can be timed again)."""
    from mobilise.auth.service import issue_token

    one = lambda sql, **params: db.session.execute(db.text(sql), params).one()  # noqa: E731
    offices = dict(db.session.execute(db.text("SELECT code, id FROM offices")).all())
    cases = dict(db.session.execute(db.text("SELECT reference, id FROM cases")).all())
    small = min(
        offices, key=lambda code: one("SELECT count(*) FROM supporters WHERE office_id = :o", o=offices[code])[0]
    )
    # Someone with a history worth reading: emails, opens, clicks, an action, tags.
    person = one(
        """SELECT s.id, s.email, s.first_name, s.last_name FROM actions a JOIN supporters s ON s.id = a.supporter_id
           WHERE s.office_id = :o AND s.email IS NOT NULL ORDER BY a.id LIMIT 1""",
        o=offices["GB"],
    )
    world = {
        "offices": offices,
        "small": small,
        "launched": cases["UA 53/25"],
        "new": cases["UA 70/25"],
        "person": {"id": person[0], "email": person[1], "name": f"{person[2]} {person[3]}".strip()},
        "endpoint": one("SELECT id FROM webhook_endpoints ORDER BY id LIMIT 1")[0],
        "import": one("SELECT id FROM imports ORDER BY id LIMIT 1")[0],
        "gb_total": one("SELECT count(*) FROM supporters WHERE office_id = :o", o=offices["GB"])[0],
        # An id nine tenths down the biggest list: where a "next page" link deep in it starts.
        "deep": one(
            """SELECT id FROM supporters WHERE office_id = :o ORDER BY id
               OFFSET (SELECT count(*) * 9 / 10 FROM supporters WHERE office_id = :o) LIMIT 1""",
            o=offices["GB"],
        )[0],
        "tokens": {"admin": issue_token("admin@example.org"), "manager": issue_token("manager@gb.example.org")},
    }
    db.session.commit()
    return world


def signed_in(app, email: str):
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login).group(1)
    answer = client.post("/login", data={"email": email, "password": "correct horse battery", "csrf_token": csrf})
    assert answer.status_code == 302, answer.status_code
    return client


def csrf_of(client, path: str) -> str:
    return re.search(
        r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


def pages(world: dict, clients: dict) -> list[tuple[str, callable]]:
    """(name, call) for each page: the call makes the request and checks the answer."""
    from markupsafe import escape

    from mobilise.languages import fold

    manager, admin = clients["manager"], clients["admin"]
    api = {who: {"Authorization": f"Bearer {token}"} for who, token in world["tokens"].items()}
    case, new, person = world["launched"], world["new"], world["person"]
    first, *rest = person["name"].split(" ")
    shown_name = str(escape(person["name"]))
    local = person["email"].split("@")[0]

    def get(client, path, *must, status=200, headers=None):
        path = quote(path, safe="/?=&@")

        def call():
            answer = client.get(path, headers=headers)
            assert answer.status_code == status, (path, answer.status_code)
            body = answer.get_data()
            for text in must:
                assert text.encode() in body, (path, text)

        return call

    def post(client, path, form_path, data, *must):
        def call():
            answer = client.post(path, data={**data, "csrf_token": csrf})
            assert answer.status_code == 200, (path, answer.status_code, answer.get_data()[:3000])
            for text in must:
                assert text.encode() in answer.get_data(), (path, text)

        csrf = csrf_of(client, form_path)
        return call

    def api_get(path, *, who="manager", check=None):
        def call():
            answer = manager.get(quote(path, safe="/?=&@"), headers=api[who])
            assert answer.status_code == 200, (path, answer.status_code, answer.get_data()[:200])
            if check:
                assert check(answer.json), (path, str(answer.json)[:300])

        return call

    def api_post(path, body, check):
        def call():
            answer = manager.post(path, json=body, headers=api["manager"])
            assert answer.status_code == 200 and check(answer.json), (path, answer.status_code)

        return call

    gb = "/api/v1/offices/GB"
    total = f"{world['gb_total']} supporters"
    last_page = (world["gb_total"] + 49) // 50
    return [
        ("console home (manager)", get(manager, "/", "UA 53/25")),
        ("console home (admin, every office)", get(admin, "/", "UA 53/25")),
        ("case page (manager)", get(manager, f"/console/cases/{case}", "Actions per day")),
        ("case page (admin, every office)", get(admin, f"/console/cases/{case}", "Actions per day")),
        ("case counts CSV", get(manager, f"/console/cases/{case}/stats.csv", "office,GB")),
        ("launch page, audience by language", get(manager, f"/console/cases/{new}/launch", "Launch")),
        (
            "launch confirmation (POST, not confirmed)",
            post(manager, f"/console/cases/{new}/launch", f"/console/cases/{new}/launch", {"office": "GB"}, "Launch"),
        ),
        (
            "update confirmation (admin, POST)",
            post(admin, f"/console/cases/{case}/update", f"/console/cases/{case}/update", {"body": "News."}, "GB"),
        ),
        ("translation page", get(manager, f"/console/cases/{case}/translations/es", "Spanish translation")),
        ("supporters, first page", get(manager, "/console/supporters/", total)),
        ("supporters, last page", get(manager, f"/console/supporters/?page={last_page}", total)),
        ("supporters, next page deep down", get(manager, f"/console/supporters/?after={world['deep']}", total)),
        ("supporters, status=bounced", get(manager, "/console/supporters/?status=bounced", "bounced")),
        (
            "search: name as written (accents)",
            get(manager, f"/console/supporters/?q={person['name']}", shown_name, "supporters matching"),
        ),
        (
            "search: name unaccented, upper case",
            get(manager, f"/console/supporters/?q={fold(person['name']).upper()}", shown_name, "supporters matching"),
        ),
        ("search: first name alone", get(manager, f"/console/supporters/?q={first}", "supporter")),
        ("search: whole address", get(manager, f"/console/supporters/?q={person['email']}", person["email"])),
        ("search: start of an address", get(manager, f"/console/supporters/?q={local}", person["email"])),
        ("search: a domain", get(manager, "/console/supporters/?q=@web.de", "supporter")),
        ("search: nobody", get(manager, "/console/supporters/?q=zzqxj", "0 supporters matching")),
        ("one supporter's history", get(manager, f"/console/supporters/{person['id']}", person["email"])),
        ("import progress", get(manager, f"/console/supporters/imports/{world['import']}", "supporters-2025.csv")),
        ("queues", get(manager, "/console/queues", "Relays")),
        ("audit page (manager)", get(manager, "/console/audit", "signin")),
        ("audit page, action=signin", get(manager, "/console/audit?action=signin", "signin")),
        ("audit page 20", get(manager, "/console/audit?page=20", "signin")),
        ("audit page (admin, every office)", get(admin, "/console/audit", "signin")),
        ("deliverability page", get(manager, "/console/deliverability", "Gmail")),
        ("staff page", get(manager, "/console/staff", "campaigner@gb.example.org")),
        ("webhooks page", get(manager, "/console/webhooks", "127.0.0.1")),
        ("API docs page", get(manager, "/console/api", "supporters")),
        ("GET /api/v1/audit", api_get("/api/v1/audit", check=lambda j: j["items"] and j["total"] > 0)),
        ("GET /api/v1/audit?page=20", api_get("/api/v1/audit?page=20", check=lambda j: j["items"])),
        ("GET /api/v1/audit (admin)", api_get("/api/v1/audit", who="admin", check=lambda j: j["items"])),
        ("GET /api/v1/offices", api_get("/api/v1/offices", check=lambda j: j)),
        ("GET /api/v1/cases", api_get("/api/v1/cases", check=lambda j: j)),
        ("GET /api/v1/cases/ID", api_get(f"/api/v1/cases/{case}", check=lambda j: j["id"] == case)),
        ("GET /api/v1/cases/ID/stats", api_get(f"/api/v1/cases/{case}/stats", check=lambda j: j["totals"]["acted"])),
        ("GET /api/v1/cases/ID/stats (admin)", api_get(f"/api/v1/cases/{case}/stats", who="admin", check=lambda j: j)),
        ("GET /api/v1/cases/ID/schedule", api_get(f"/api/v1/cases/{case}/schedule", check=lambda j: j)),
        (
            "GET /api/v1/cases/ID/audience",
            api_get(f"/api/v1/cases/{new}/audience?office=GB", check=lambda j: j["total"] > 0),
        ),
        (
            "GET …/supporters (first page)",
            api_get(f"{gb}/supporters", check=lambda j: j["total"] == world["gb_total"]),
        ),
        (
            "GET …/supporters?page=LAST",
            api_get(f"{gb}/supporters?page={last_page}", check=lambda j: j["items"]),
        ),
        (
            "GET …/supporters?page=MIDDLE",
            api_get(f"{gb}/supporters?page={last_page // 2}", check=lambda j: j["items"]),
        ),
        (
            "GET …/supporters?after=ID (deep)",
            api_get(f"{gb}/supporters?after={world['deep']}", check=lambda j: j["items"]),
        ),
        (
            "GET …/supporters?q=NAME",
            api_get(f"{gb}/supporters?q={fold(person['name'])}", check=lambda j: j["total"] > 0),
        ),
        (
            "GET …/supporters?q=FIRST NAME (broad)",
            api_get(f"{gb}/supporters?q={fold(first)}", check=lambda j: j["total"] > 0),
        ),
        (
            "GET …/supporters?tag=youth",
            api_get(f"{gb}/supporters?tag=youth", check=lambda j: j["total"] > 0),
        ),
        (
            "POST …/supporters/export (one)",
            api_post(f"{gb}/supporters/export", {"email": person["email"]}, lambda j: j["emails"]),
        ),
        ("GET …/reputation", api_get(f"{gb}/reputation", check=lambda j: j["windows"]["30"]["total"]["sent"] > 0)),
        ("GET …/webhooks", api_get(f"{gb}/webhooks", check=lambda j: j)),
        (
            "GET …/webhooks/ID/deliveries",
            api_get(f"{gb}/webhooks/{world['endpoint']}/deliveries", check=lambda j: j["items"]),
        ),
        ("GET /api/v1/imports/ID", api_get(f"/api/v1/imports/{world['import']}", check=lambda j: j["status"])),
        ("GET /api/v1/openapi.json", api_get("/api/v1/openapi.json", check=lambda j: j["paths"])),
        ("GET /healthz", get(manager, "/healthz", "ok")),
        ("GET /metrics", get(manager, "/metrics", "mobilise_emails_sent")),
    ]


def timed(call, calls: int, budget: float, warm: bool) -> tuple[list[float], float | None]:
    """The durations of the calls, in ms, and of the warm-up call before them (None without one)."""
    first = None
    if warm:
        start = time.perf_counter()
        call()
        first = (time.perf_counter() - start) * 1000
    durations = []
    stop = time.perf_counter() + budget
    while len(durations) < calls and (not durations or time.perf_counter() < stop):
        start = time.perf_counter()
        call()
        durations.append((time.perf_counter() - start) * 1000)
    return durations, first


def percentiles(durations: list[float]) -> tuple[float, float]:
    ordered = sorted(durations)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class PeakRSS:
    """This process's resident memory, sampled in a thread while the block runs: its growth over the start."""

    def __init__(self):
        self.page = os.sysconf("SC_PAGE_SIZE")

    def rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page

    def __enter__(self):
        self.start = self.peak = self.rss()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.growth_mb = (self.peak - self.start) / 1024 / 1024


def export_streamed(client, path: str, headers=None) -> int:
    """Read a streamed CSV to its end, a chunk at a time; its rows (less the header)."""
    answer = client.get(path, headers=headers, buffered=False)
    assert answer.status_code == 200, (path, answer.status_code)
    lines = 0
    for chunk in answer.response:
        lines += chunk.count(b"\n")
    answer.close()
    return lines - 1


def export_paged(client, path: str, headers, budget: float, *, keyset: bool) -> int:
    """The whole list through the API, 500 a page, as a program would fetch it (by page number, or each page after
    the last id of the one before); stops after `budget` seconds."""
    rows, page, after, stop = 0, 1, 0, time.perf_counter() + budget
    while time.perf_counter() < stop:
        answer = client.get(f"{path}?per_page=500&" + (f"after={after}" if keyset else f"page={page}"), headers=headers)
        assert answer.status_code == 200, answer.status_code
        items = answer.json["items"]
        if not items:
            return rows
        rows += len(items)
        page, after = page + 1, items[-1]["id"]
    print(f"    (stopped after {budget:.0f} s, at page {page})")
    return rows


def exports(world: dict, clients: dict, budget: float) -> list[dict]:
    admin = clients["admin"]
    token = {"Authorization": f"Bearer {world['tokens']['admin']}"}
    found = []
    for code in ("GB", world["small"]):
        for name, run in (
            (
                f"suppression list CSV, console ({code})",
                lambda: export_streamed(admin, f"/console/deliverability/suppressions.csv?office={code}"),
            ),
            (
                f"suppression list CSV, API ({code})",
                lambda: export_streamed(admin, f"/api/v1/offices/{code}/suppressions", token),
            ),
            (
                f"whole supporter list, API ?page= of 500 ({code})",
                lambda: export_paged(admin, f"/api/v1/offices/{code}/supporters", token, budget, keyset=False),
            ),
            (
                f"whole supporter list, API ?after= of 500 ({code})",
                lambda: export_paged(admin, f"/api/v1/offices/{code}/supporters", token, budget, keyset=True),
            ),
        ):
            with PeakRSS() as memory:
                start = time.perf_counter()
                rows = run()
                seconds = time.perf_counter() - start
            found.append({"name": name, "rows": rows, "seconds": seconds, "rss_mb": memory.growth_mb})
            print(
                f"{name:<50} {rows:>9,} rows in {seconds:6.1f} s = {rows / seconds:>9,.0f} rows/s,"
                f" memory +{memory.growth_mb:5.1f} MB",
                flush=True,
            )
    return found


def measure(app, db, args) -> dict:
    with app.app_context():
        world = world_of(db)
    clients = {"manager": signed_in(app, "manager@gb.example.org"), "admin": signed_in(app, "admin@example.org")}
    every = pages(world, clients)  # outside any app context: a request in one would share its `g` (and CSRF token)
    chosen = [(name, call) for name, call in every if not args.only or re.search(args.only, name)]

    def count_all():
        with app.app_context():
            db.session.execute(db.text("SELECT count(*) FROM supporters")).scalar()

    rounds: dict[str, list[tuple[float, float, int]]] = {}
    firsts: dict[str, float] = {}  # each page's first call (caches cold, a finished mailing's sends not kept yet)
    for round_number in range(args.rounds):
        print(f"round {round_number + 1} of {args.rounds}", flush=True)
        for name, call in [("baseline: SELECT count(*) FROM supporters", count_all), *chosen]:
            durations, first = timed(call, args.calls, args.budget, warm=round_number == 0)
            rounds.setdefault(name, []).append((*percentiles(durations), len(durations)))
            if first is not None:
                firsts[name] = first
    print(
        f"\n{args.calls} calls a page a round (fewer past {args.budget:.0f} s), {args.rounds} rounds; "
        "median over rounds of each round's p50 and p95 (range of the p95s), and the very first call:"
    )
    base = statistics.median(p50 for p50, _, _ in rounds["baseline: SELECT count(*) FROM supporters"])
    results = {}
    for name, figures in rounds.items():
        p50 = statistics.median(f[0] for f in figures)
        p95 = statistics.median(f[1] for f in figures)
        low, high = min(f[1] for f in figures), max(f[1] for f in figures)
        mark = "" if name.startswith("baseline") else ("ok" if p95 <= GOAL_MS else "OVER")
        first = firsts.get(name)
        print(
            f"{name:<44} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  ({low:7.1f}–{high:7.1f})  "
            f"{p50 / base:6.1f}× count(*)  first {first or 0:7.1f} ms  {mark}"
        )
        results[name] = {
            "p50": p50,
            "p95": p95,
            "p95_low": low,
            "p95_high": high,
            "first": first,
            "calls": [f[2] for f in figures],
        }
    over = [name for name, r in results.items() if not name.startswith("baseline") and r["p95"] > GOAL_MS]
    print(f"\ngoal p95 ≤ {GOAL_MS} ms: {'met by every page' if not over else 'NOT met by ' + ', '.join(over)}\n")
    found = exports(world, clients, args.export_budget) if not args.only else []
    return {"pages": results, "exports": found}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/test", help="beside which")
    parser.add_argument("--supporters", type=int, default=1_000_000)
    parser.add_argument("--deliveries", type=int, help="default: as many as supporters")
    parser.add_argument("--events", type=int, help="default: 3 a delivery")
    parser.add_argument("--actions", type=int, help="default: one for 5 supporters")
    parser.add_argument("--audit", type=int, default=200_000, help="audit entries (a year of a big section's staff)")
    parser.add_argument("--webhooks", type=int, default=50_000, help="webhook deliveries in the receiver's log")
    parser.add_argument("--calls", type=int, default=15, help="requests per page per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=10, help="seconds per page per round, at most")
    parser.add_argument("--export-budget", type=float, default=120, help="seconds for a paged export, at most")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--only", help="time only the pages whose name matches this regular expression")
    parser.add_argument("--keep", action="store_true", help="leave the scratch database (its URL is printed)")
    parser.add_argument("--on", help="time this database, filled by a --keep run, instead of filling one")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    deliveries = args.deliveries if args.deliveries is not None else args.supporters
    sizes = {
        "supporters": args.supporters,
        "deliveries": deliveries,
        "events": args.events if args.events is not None else 3 * deliveries,
        "actions": args.actions if args.actions is not None else args.supporters // 5,
        "audit": args.audit,
        "webhooks": args.webhooks,
    }
    url, created = (args.on, None) if args.on else make_database(args.database)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "MOBILISE_ENV": "production",
            "REDIS_URL": args.redis,
            "WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver's address is loopback's discard port: nothing is sent
        }
    )
    try:
        from flask_migrate import upgrade

        from mobilise import create_app
        from mobilise.extensions import db

        app = create_app()
        with app.app_context():
            upgrade()
            if not args.on:
                print(f"filling {', '.join(f'{v:,} {k}' for k, v in sizes.items())}:", flush=True)
                start = time.perf_counter()
                fill(db, sizes)
                db.session.remove()
                print(f"filled in {time.perf_counter() - start:.0f} s", flush=True)
        if not args.on:
            vacuum(url)
        results = measure(app, db, args)
        if args.json:
            Path(args.json).write_text(json.dumps({"sizes": sizes, **results}, indent=1))
    finally:
        if args.keep and created:
            print(f"kept: --on {url}")
        elif created:
            drop_database(created)


if __name__ == "__main__":
    main()
