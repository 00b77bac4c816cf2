"""An office's reputation at scale on PostgreSQL, beside a plain count of the rows it reads.

Builds a scratch database: two offices (GB, ES) of 100,000 supporters each, spread over Gmail, Microsoft,
Yahoo and other domains; four emails to all of them per office, two sent over the last 45 days (200,000
deliveries per office) and two over the year before (history the reputation must not read): 800,000
deliveries in all. Hard bounces on 2% of the deliveries (the refusals at RCPT among them), complaints on
0.1%, the supporters they stopped, and half of GB's list unsubscribed: a suppression list of some 50,000.
The rows go in by SQL. Then, --calls times each after a warm-up: the baseline (COUNT(*) of GB's deliveries of
the last 30 days: the rows the reputation reads, by the same join), `reputation(GB)`, the API call, the
console page, and the suppression CSV downloaded whole (and the peak of Python's memory while it streams);
then `reputation(GB)` again with the index on deliveries.sent_at dropped, to show what it buys.

    .venv/bin/python bench/reputation.py [--database postgresql://postgres@127.0.0.1:5432/test] [--calls 20]
"""

import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import run_on_scratch  # noqa: E402
from bench.stats import launched_by_two_offices, report, signed_in_admin, timed  # noqa: E402

PER_OFFICE = 100_000
DAYS = 45
# 40% Gmail, 25% Microsoft, 10% Yahoo, the rest elsewhere: about what a European list holds.
DOMAIN = """CASE WHEN n % 20 < 8 THEN 'gmail.com' WHEN n % 20 < 10 THEN 'hotmail.fr' WHEN n % 20 < 13 THEN 'outlook.com'
                 WHEN n % 20 < 15 THEN 'yahoo.co.uk' ELSE 'example.net' END"""


def fill(db, drives: dict[str, int]) -> None:
    run = lambda sql, **params: db.session.execute(db.text(sql), params)  # noqa: E731
    for code, drive_id in drives.items():
        office_id = run("SELECT office_id FROM drives WHERE id = :d", d=drive_id).scalar()
        run(
            f"""INSERT INTO supporters (office_id, email, first_name, last_name, status, status_changed_at, created_at)
                SELECT :o, 'p' || n || '.' || lower(:code) || '@' || {DOMAIN}, 'P' || n, '', 'subscribed', now(), now()
                FROM generate_series(1, :n) AS n""",
            o=office_id,
            code=code,
            n=PER_OFFICE,
        )
        mailings = run("SELECT id FROM mailings WHERE drive_id = :d ORDER BY send_at, id", d=drive_id).scalars().all()
        while len(mailings) < 4:  # the launch and its reminders; more emails of the drive if it has fewer
            mailings.append(
                run(
                    """INSERT INTO mailings (drive_id, stage, audience, send_at, status, created_at)
                                   VALUES (:d, 'update', 'all', now(), 'planned', now()) RETURNING id""",
                    d=drive_id,
                ).scalar()
            )
        for k, mailing_id in enumerate(mailings[:4]):
            recent = k < 2
            run(
                "UPDATE mailings SET status = 'sent', audience_taken_at = now(), finished_at = now() WHERE id = :m",
                m=mailing_id,
            )
            # Every 150th address refused at RCPT (never accepted) by the recent emails; the rest accepted on one of the last DAYS days
            # (the two recent emails) or of the year before them (the two old ones).
            run(
                """INSERT INTO deliveries (mailing_id, supporter_id, status, sent_at)
                   SELECT :m, id, CASE WHEN :recent AND id % 150 = 0 THEN 'failed' ELSE 'sent' END,
                          CASE WHEN :recent AND id % 150 = 0 THEN NULL
                               ELSE now() - (:offset + (id + :k * 17) % :span) * interval '1 day' - (id % 86400) * interval '1 second' END
                   FROM supporters WHERE office_id = :o""",
                m=mailing_id,
                o=office_id,
                k=k,
                recent=recent,
                offset=0 if recent else DAYS,
                span=DAYS if recent else 365,
            )
    # Hard bounces on 2% of the deliveries (the refused ones among them), complaints on 0.1%, reported on the
    # day of the send; and the supporters they stopped.
    run(
        """INSERT INTO bounces (supporter_id, delivery_id, kind, detail, created_at)
           SELECT supporter_id, id, 'hard', '550 5.1.1 no such user', coalesce(sent_at, now() - (id % :days) * interval '1 day')
           FROM deliveries WHERE id % 50 = 0 OR status = 'failed'""",
        days=DAYS,
    )
    run("""INSERT INTO bounces (supporter_id, delivery_id, kind, created_at)
           SELECT supporter_id, id, 'complaint', sent_at FROM deliveries WHERE id % 1000 = 7 AND sent_at IS NOT NULL""")
    for kind, status in (("hard", "bounced"), ("complaint", "complained")):
        run(
            """UPDATE supporters SET status = :s WHERE id IN (SELECT supporter_id FROM bounces WHERE kind = :k)""",
            s=status,
            k=kind,
        )
        run(
            """INSERT INTO consent_changes (supporter_id, change, source, at)
               SELECT DISTINCT supporter_id, :s, 'relay report: ' || :k, now() FROM bounces WHERE kind = :k""",
            s=status,
            k=kind,
        )
    # Half of GB's list unsubscribed, by the link in an email: a suppression list of some 50,000.
    run("""WITH gone AS (UPDATE supporters SET status = 'unsubscribed' WHERE id % 2 = 0 AND status = 'subscribed'
                         AND office_id = (SELECT id FROM offices WHERE code = 'GB') RETURNING id)
           INSERT INTO consent_changes (supporter_id, change, source, at)
           SELECT id, 'withdrawn', 'unsubscribe link in an email', now() FROM gone""")
    db.session.commit()


def vacuum(url: str) -> None:
    """VACUUM ANALYZE outside a transaction: fresh statistics and a visibility map, as autovacuum leaves them."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def run_bench(calls: int, url: str) -> None:
    from flask_migrate import upgrade

    from mobilise import create_app
    from mobilise.deliverability.reputation import reputation
    from mobilise.extensions import db
    from mobilise.offices.service import get_office

    app = create_app()
    with app.app_context():
        upgrade()
        _, drives = launched_by_two_offices()
        start = time.perf_counter()
        fill(db, drives)
        vacuum(url)
        count = lambda sql: db.session.execute(db.text(sql)).scalar()  # noqa: E731
        print(
            f"filled in {time.perf_counter() - start:.0f} s: {count('SELECT count(*) FROM deliveries'):,} deliveries "
            f"({count('SELECT count(*) FROM deliveries d JOIN supporters s ON s.id = d.supporter_id JOIN offices o ON o.id = s.office_id WHERE o.code = $$GB$$'):,} GB's), "
            f"{count('SELECT count(*) FROM bounces'):,} bounce reports"
        )
        gb_id = get_office("GB").id

    client, token = signed_in_admin(app)
    headers = {"Authorization": f"Bearer {token}"}

    def api_call():
        response = client.get("/api/v1/offices/GB/reputation", headers=headers)
        assert response.status_code == 200 and response.json["windows"]["30"]["total"]["sent"] > 100_000, response.json

    def page_call():
        response = client.get("/console/deliverability?office=GB")
        assert response.status_code == 200 and b"The last 30 days" in response.data, response.status_code

    rows = []

    def csv_call():
        # Read as a client reads a download, a chunk at a time: what the server holds is what the peak shows.
        response = client.get("/api/v1/offices/GB/suppressions", headers=headers, buffered=False)
        rows.append(sum(chunk.count(b"\n") for chunk in response.response) - 1)
        response.close()

    with app.app_context():
        office = get_office("GB")
        baseline_sql = db.text("""SELECT count(*) FROM deliveries d JOIN supporters s ON s.id = d.supporter_id
                                  WHERE s.office_id = :o AND d.sent_at >= date_trunc('day', now()) - interval '29 days'""")
        baseline = lambda: db.session.execute(baseline_sql, {"o": gb_id}).scalar()  # noqa: E731
        month = reputation(office)["windows"]["30"]["total"]
        print(
            f"GB's last 30 days: {month['sent']:,} sent, {month['refused']:,} refused, {month['hard_bounces']:,} hard bounces "
            f"({month['hard_bounce_rate']:.2%}, {month['hard_bounce_level']}), {month['complaints']:,} complaints "
            f"({month['complaint_rate']:.2%}, {month['complaint_level']})"
        )
        print(f"\n{calls} calls each (after one warm-up), in this process:")
        base = report("baseline: COUNT(*) of GB's last 30 days", timed(baseline, calls))
        service = report("reputation(GB)", timed(lambda: reputation(office), calls))
        db.session.remove()
    api = report("GET /api/v1/offices/GB/reputation", timed(api_call, calls))
    page = report("GET /console/deliverability?office=GB", timed(page_call, calls))
    download = report("GET /api/v1/offices/GB/suppressions (whole)", timed(csv_call, max(calls // 4, 3)))
    tracemalloc.start()
    csv_call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  ({rows[-1]:,} rows in the CSV; Python's peak allocation while streaming it: {peak / 1024 / 1024:.1f} MB)")
    with app.app_context():
        db.session.execute(db.text("DROP INDEX ix_deliveries_sent_at"))
        db.session.commit()
        vacuum(url)
        office = get_office("GB")
        unindexed = report("reputation(GB), no index on sent_at", timed(lambda: reputation(office), calls))
        db.session.remove()
    print(
        f"\nratio to the baseline at p50: reputation {service[0] / base[0]:.2f}, API {api[0] / base[0]:.2f}, "
        f"page {page[0] / base[0]:.2f}, without the index {unindexed[0] / base[0]:.2f}; CSV {download[0]:.0f} ms"
    )


if __name__ == "__main__":
    run_on_scratch(run_bench, calls=20)
