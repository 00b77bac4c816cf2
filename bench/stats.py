"""A case's stats at scale on PostgreSQL: the stats API and the console case page, beside COUNT(*).

Builds a scratch database: one case launched by two offices, 250,000 supporters each, two emails
per office to all of them (1,000,000 deliveries), and 3,000,000 events: opens (some by machines),
clicks and actions. The rows go in by SQL, behind the writers' back, so the counters are built
with `recount` (timed too). Then both pages are called --calls times each, through the app, beside
a plain `SELECT COUNT(*) FROM deliveries`, and also the exact scan the counters replace.

    .venv/bin/python bench/stats.py [--database postgresql://postgres@127.0.0.1:5432/test] [--calls 30]
"""

import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import run_on_scratch  # noqa: E402

PER_OFFICE = 250_000
OPENS, CLICKS, ACTIONS = 2_000_000, 700_000, 300_000


def fill(db, case_id: int, drives: dict[str, int]) -> None:
    """Supporters, deliveries, events and actions by SQL: minutes by the ORM, seconds this way."""
    run = lambda sql, **params: db.session.execute(db.text(sql), params)  # noqa: E731
    for code, drive_id in drives.items():
        office_id = run("SELECT office_id FROM drives WHERE id = :d", d=drive_id).scalar()
        run(
            """INSERT INTO supporters (office_id, email, first_name, last_name, language, status, status_changed_at, created_at)
               SELECT :o, 'p' || n || '@' || lower(:code) || '.example.net', 'P' || n, '', NULL, 'subscribed', now(), now()
               FROM generate_series(1, :n) AS n""",
            o=office_id,
            code=code,
            n=PER_OFFICE,
        )
        mailings = (
            run("SELECT id FROM mailings WHERE drive_id = :d ORDER BY send_at, id LIMIT 2", d=drive_id).scalars().all()
        )
        for mailing_id in mailings:
            run(
                """UPDATE mailings SET status = 'sent', audience_taken_at = now(), finished_at = now() WHERE id = :m""",
                m=mailing_id,
            )
            run(
                """INSERT INTO deliveries (mailing_id, supporter_id, status, sent_at)
                   SELECT :m, id, CASE WHEN id % 100 = 0 THEN 'failed' ELSE 'sent' END, now() - interval '2 days'
                   FROM supporters WHERE office_id = :o""",
                m=mailing_id,
                o=office_id,
            )
    first_emails = []
    for drive_id in drives.values():
        first_emails.append(
            run("SELECT id FROM mailings WHERE drive_id = :d ORDER BY send_at, id LIMIT 1", d=drive_id).scalar()
        )
    run("ANALYZE")
    run("""CREATE TEMP TABLE picks AS SELECT row_number() OVER () AS n, id, supporter_id, mailing_id FROM deliveries""")
    total = run("SELECT count(*) FROM picks").scalar()
    run(
        """INSERT INTO events (kind, delivery_id, machine, reason, network, created_at)
           SELECT 'open', p.id, g % 5 = 0, CASE WHEN g % 5 = 0 THEN 'apple-mpp' ELSE 'browser' END, '10.0.0.0/24',
                  now() - interval '1 day' + (g % 86400) * interval '1 second'
           FROM generate_series(1, :n) AS g JOIN picks p ON p.n = 1 + (g::bigint * 7919) % :total""",
        n=OPENS,
        total=total,
    )
    run(
        """INSERT INTO events (kind, delivery_id, machine, reason, network, created_at)
           SELECT 'click', p.id, g % 10 = 0, CASE WHEN g % 10 = 0 THEN 'click-burst' ELSE 'browser' END, '10.0.0.0/24',
                  now() - interval '1 day' + (g % 86400) * interval '1 second'
           FROM generate_series(1, :n) AS g JOIN picks p ON p.n = 1 + (g::bigint * 104729) % :total""",
        n=CLICKS,
        total=total,
    )
    # One action per supporter and case: the first ACTIONS supporters, from their first email, over 10 days.
    run(
        """INSERT INTO actions (case_id, office_id, supporter_id, delivery_id, source, created_at)
           SELECT :c, s.office_id, s.id, d.id, 'email', now() - (s.id % 10) * interval '1 day'
           FROM supporters s JOIN deliveries d ON d.supporter_id = s.id AND d.mailing_id = ANY(:first)
           ORDER BY s.id LIMIT :n""",
        c=case_id,
        n=ACTIONS,
        first=first_emails,
    )
    db.session.commit()
    run("ANALYZE")


def timed(call, times: int) -> list[float]:
    call()  # warm
    durations = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def report(name: str, durations: list[float]) -> tuple[float, float]:
    ordered = sorted(durations)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{name:<44} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms")
    return p50, p95


def launched_by_two_offices() -> tuple[int, dict[str, int]]:
    """GB and ES, and the builders' case launched by both: the case's id and each office's drive id."""
    from mobilise.cases.service import create_case
    from mobilise.offices.service import create_office
    from mobilise.sequences.service import launch

    sys.path.insert(0, str(ROOT / "tests"))
    from builders import case_data

    offices = {
        code: create_office(
            {"code": code, "name": name, "language": lang, "timezone": tz, "sender": f"ua@{code.lower()}.example.org"}
        )
        for code, name, lang, tz in (
            ("GB", "Amnesty UK", "en", "Europe/London"),
            ("ES", "Amnistía España", "es", "Europe/Madrid"),
        )
    }
    case = create_case(case_data())
    return case.id, {code: launch(case, office, {"office": code}).id for code, office in offices.items()}


def signed_in_admin(app):
    """A test client signed in to the console as a new admin, and that admin's API token."""
    from mobilise.auth.service import create_staff, issue_token

    with app.app_context():
        create_staff("admin@example.org", admin=True, office_code=None, password="correct horse battery")
        token = issue_token("admin@example.org")
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login).group(1)
    client.post("/login", data={"email": "admin@example.org", "password": "correct horse battery", "csrf_token": csrf})
    return client, token


def run_bench(calls: int, url: str) -> None:
    from flask_migrate import upgrade

    from mobilise import create_app
    from mobilise.dashboard.recount import recount
    from mobilise.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        case_id, drives = launched_by_two_offices()
        start = time.perf_counter()
        fill(db, case_id, drives)
        print(
            f"filled in {time.perf_counter() - start:.0f} s: "
            f"{db.session.execute(db.text('SELECT count(*) FROM deliveries')).scalar():,} deliveries, "
            f"{db.session.execute(db.text('SELECT count(*) FROM events')).scalar():,} events, "
            f"{db.session.execute(db.text('SELECT count(*) FROM actions')).scalar():,} actions"
        )
        start = time.perf_counter()
        recount(list(drives.values()))
        print(f"recount from the rows (once, after a bulk load): {time.perf_counter() - start:.1f} s")
    client, token = signed_in_admin(app)

    def stats_call():
        response = client.get(f"/api/v1/cases/{case_id}/stats", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and response.json["offices"]["GB"]["acted"] > 0, response.json

    def page_call():
        response = client.get(f"/console/cases/{case_id}")
        assert response.status_code == 200 and b"Actions per day" in response.data, response.status_code

    with app.app_context():
        count_all = lambda: db.session.execute(db.text("SELECT count(*) FROM deliveries")).scalar()  # noqa: E731
        scan = db.text("""SELECT o.code, count(DISTINCT d.supporter_id) FILTER (WHERE e.kind = 'open' AND NOT e.machine),
                                 count(DISTINCT d.supporter_id) FILTER (WHERE e.kind = 'click' AND NOT e.machine)
                          FROM events e JOIN deliveries d ON d.id = e.delivery_id JOIN mailings m ON m.id = d.mailing_id
                          JOIN drives dr ON dr.id = m.drive_id JOIN offices o ON o.id = dr.office_id
                          WHERE dr.case_id = :c GROUP BY o.code""")
        print(f"\n{calls} calls each (after one warm-up), through the app in this process:")
        base = report("baseline: SELECT COUNT(*) FROM deliveries", timed(count_all, calls))
        report(
            "the scan counters replace (2 of 9 counts)",
            timed(lambda: db.session.execute(scan, {"c": case_id}).all(), 2),
        )
        scanned = {
            code: (people_opened, people_clicked)
            for code, people_opened, people_clicked in db.session.execute(scan, {"c": case_id})
        }
    counters = client.get(f"/api/v1/cases/{case_id}/stats", headers={"Authorization": f"Bearer {token}"}).json[
        "offices"
    ]
    assert scanned == {code: (c["opened_human"], c["clicked"]) for code, c in counters.items()}, (scanned, counters)
    print(
        "the counters and the scan agree:",
        ", ".join(f"{code} opened_human {o:,} clicked {c:,}" for code, (o, c) in scanned.items()),
    )
    api = report("GET /api/v1/cases/ID/stats", timed(stats_call, calls))
    page = report("GET /console/cases/ID (signed in)", timed(page_call, calls))
    print(
        f"\nratio to COUNT(*) at p50: stats {api[0] / base[0]:.2f}, page {page[0] / base[0]:.2f}; "
        f"goal: both under 200 ms at p95 ({'met' if max(api[1], page[1]) < 200 else 'NOT met'})"
    )


if __name__ == "__main__":
    run_on_scratch(run_bench, calls=30)
