"""The rows of a big section, written as the service writes them but by set-based SQL, for bench/console.py.

Offices, staff, cases and drives go through the service itself (create_office, create_staff, create_case, launch,
register); the bulk goes in by INSERT ... SELECT over generate_series, in the shapes the writers give it:

- supporters as the importer (staging.py) and the sign-up write them: names in several scripts, accented ones among
  them, an address made from the name, `search_text` folded by the service's own `fold` (the folded names are
  passed in; the addresses are ASCII, which `fold` only lower-cases), languages, tags, a consent history whose
  steps carry the sources the service writes ("given", a sign-up's "requested" and "confirmed", "withdrawn" by the
  unsubscribe link, "bounced" and "complained" by a relay's report, "erased" alone after an erasure);
- one launch email per drive, sent: a delivery per supporter mailable then, accepted (a few refused at RCPT, a
  few bounced after), with its bounce rows; opens, clicks (on the mailing's own links) and unsubscribes as the
  tracking writer records them, then each delivery's marks and every counter rebuilt from them by `recount`;
- an action for many human clicks, the audit trail of a year, one receiver of webhooks out with its delivery log.

Pseudo-random but repeatable: every choice is a hash of the row's number (PostgreSQL's hashint8).
"""

import secrets
from datetime import timedelta

OFFICES = (  # code, name, language, timezone, share of the supporters
    ("GB", "Amnesty International UK", "en", "Europe/London", 40),
    ("ES", "Amnistía Internacional España", "es", "Europe/Madrid", 25),
    ("FR", "Amnesty International France", "fr", "Europe/Paris", 15),
    ("DE", "Amnesty International Deutschland", "de", "Europe/Berlin", 12),
    ("BR", "Anistia Internacional Brasil", "pt", "America/Sao_Paulo", 8),
)
# A name as written, and the ASCII an address is made of.
FIRST = [
    ("Ana", "ana"),
    ("Rocío", "rocio"),
    ("Nicolás", "nicolas"),
    ("José", "jose"),
    ("Élodie", "elodie"),
    ("Zoë", "zoe"),
    ("Søren", "soren"),
    ("Françoise", "francoise"),
    ("Jürgen", "jurgen"),
    ("Łukasz", "lukasz"),
    ("João", "joao"),
    ("Inês", "ines"),
    ("Мария", "maria"),
    ("Дмитрий", "dmitry"),
    ("محمد", "mohammed"),
    ("فاطمة", "fatima"),
    ("李娜", "lina"),
    ("さくら", "sakura"),
    ("Νίκος", "nikos"),
    ("प्रिया", "priya"),
    ("Amaka", "amaka"),
    ("Chidi", "chidi"),
    ("Siobhán", "siobhan"),
    ("Thomas", "thomas"),
    ("Emma", "emma"),
    ("Lucía", "lucia"),
    ("Ömer", "omer"),
    ("Mónica", "monica"),
    ("Björn", "bjorn"),
    ("Ngọc", "ngoc"),
    ("David", "david"),
    ("Sarah", "sarah"),
]
LAST = [
    ("García", "garcia"),
    ("Núñez", "nunez"),
    ("Müller", "muller"),
    ("O'Brien", "obrien"),
    ("Nguyễn", "nguyen"),
    ("Kowalski", "kowalski"),
    ("Dubois", "dubois"),
    ("Haddad", "haddad"),
    ("Okafor", "okafor"),
    ("Smith", "smith"),
    ("Иванова", "ivanova"),
    ("Łęcka", "lecka"),
    ("Şahin", "sahin"),
    ("Pérez", "perez"),
    ("Gonçalves", "goncalves"),
    ("Johansson", "johansson"),
    ("Παπαδόπουλος", "papadopoulos"),
    ("中村", "nakamura"),
    ("Al-Sayed", "alsayed"),
    ("Brontë", "bronte"),
    ("Jones", "jones"),
    ("Fernández", "fernandez"),
    ("Lefèvre", "lefevre"),
    ("Schröder", "schroder"),
]
DOMAINS = [  # weight, domain: the providers the reputation page groups by, and the rest
    (30, "gmail.com"),
    (8, "hotmail.co.uk"),
    (6, "outlook.com"),
    (4, "live.fr"),
    (7, "yahoo.es"),
    (3, "yahoo.co.uk"),
    (8, "orange.fr"),
    (8, "web.de"),
    (6, "btinternet.com"),
    (6, "uol.com.br"),
    (14, "example.org"),
]
TAGS = [("newsletter", 550), ("petition", 400), ("youth", 90), ("lgbti", 60), ("refugees", 120), ("street", 40)]
SOURCES = [(400, None), (250, "petition"), (150, "street fundraising"), (100, "event"), (100, "website")]
OTHER_LANGUAGES = ["en", "es", "fr", "ar", "pl"]
# Per thousand supporters: what each is now. An erased one is unsubscribed with no personal data left.
KINDS = [
    (870, "subscribed"),
    (10, "pending"),
    (65, "unsubscribed"),
    (20, "erased"),
    (25, "bounced"),
    (10, "complained"),
]
AUDIT_ACTIONS = [
    (550, "signin"),
    (100, "signout"),
    (30, "signin.failed"),
    (200, "supporters.added"),
    (40, "import.started"),
    (40, "supporters.imported"),
    (15, "supporter.exported"),
    (10, "suppressions.exported"),
    (10, "drive.launched"),
    (5, "supporter.erased"),
]
# How the tracking writer judged each fetch (classify.py): weight, machine, reason.
OPEN_JUDGED = [
    (150, True, "apple-mpp"),
    (20, True, "scanner-agent"),
    (130, False, "mail-proxy"),
    (700, False, "browser"),
]
CLICK_JUDGED = [(60, True, "scanner-agent"), (940, False, "browser")]
NETWORKS = ["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24", "2001:db8:1::/48"]
REFUSED = "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"


def r(column: str, salt: int, modulo: int = 1000) -> str:
    """A repeatable draw in [0, modulo) for each row, independent for each salt."""
    return f"(abs(hashint8({column}::bigint * 1000003 + {salt})) % {modulo})"


def pick(draw: str, choices) -> str:
    """CASE over cumulative weights: `choices` are (weight, SQL literal); the weights add up to the draw's modulo."""
    whens, total = [], 0
    for weight, value in choices[:-1]:
        total += weight
        whens.append(f"WHEN {draw} < {total} THEN {value}")
    return f"(CASE {' '.join(whens)} ELSE {choices[-1][1]} END)"


def literal(value) -> str:
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


class Filler:
    def __init__(self, db, sizes: dict):
        self.db, self.sizes = db, sizes

    def run(self, sql: str, **params):
        return self.db.session.execute(self.db.text(sql), params)

    def scalar(self, sql: str, **params):
        return self.run(sql, **params).scalar()

    # -- the service's own writes: offices, staff, cases, drives, a webhook receiver --------------------------

    def world(self) -> dict:
        """Offices, their staff, four live cases (two launched), a closed one and a draft, through the service."""
        import sys
        from pathlib import Path

        from mobilise.auth.service import create_staff, issue_token
        from mobilise.cases.service import create_case
        from mobilise.clock import utcnow
        from mobilise.offices.service import create_office
        from mobilise.sequences.lifecycle import apply_change
        from mobilise.sequences.service import launch

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from builders import case_data, translated

        offices = {}
        for code, name, language, tz, _ in OFFICES:
            offices[code] = create_office(
                {
                    "code": code,
                    "name": name,
                    "language": language,
                    "timezone": tz,
                    "sender": f"ua@{code.lower()}.example.org",
                    "address": f"1 Human Rights Street\n{name}",
                }
            )
        password = "correct horse battery"
        create_staff("admin@example.org", admin=True, office_code=None, password=password)
        staff = {"admin": ("admin@example.org", issue_token("admin@example.org"))}
        for code in offices:
            for role in ("manager", "campaigner", "viewer"):
                email = f"{role}@{code.lower()}.example.org"
                create_staff(email, admin=False, office_code=code, password=password, role=role)
            staff[code] = (f"manager@{code.lower()}.example.org", issue_token(f"manager@{code.lower()}.example.org"))
        now = utcnow()
        languages = translated("es", "fr", "de", "pt")
        cases = {
            "launched": create_case(case_data(reference="UA 53/25", translations=languages)),
            "second": create_case(
                case_data(reference="UA 61/25", title="Free the students held in Minsk", translations=languages)
            ),
            "new": create_case(
                case_data(reference="UA 70/25", title="Stop the execution of Hamid", translations=languages)
            ),
            "closed": create_case(case_data(reference="UA 12/25", title="Release the journalists")),
        }
        create_case(case_data(reference="UA 71/25", title="A draft being read"), status="draft")
        drives = {}
        for code, office in offices.items():
            drives[("launched", code)] = launch(cases["launched"], office, {"office": code}, now=now - timedelta(20))
        for code in ("GB", "ES", "FR"):
            drives[("second", code)] = launch(cases["second"], offices[code], {"office": code}, now=now - timedelta(5))
        drives[("closed", "GB")] = launch(cases["closed"], offices["GB"], {"office": "GB"}, now=now - timedelta(40))
        apply_change(cases["closed"], {"kind": "closed", "outcome": "no_further_action"})
        for (_, _), drive in drives.items():  # made as if at the launch, not now
            first = min(m.send_at for m in drive.mailings)
            self.run("UPDATE drives SET created_at = :at WHERE id = :d", at=first, d=drive.id)
        self.db.session.commit()
        return {
            "offices": {code: o.id for code, o in offices.items()},
            "staff": staff,
            "password": password,
            "cases": {name: c.id for name, c in cases.items()},
            "drives": {f"{name}:{code}": d.id for (name, code), d in drives.items()},
        }

    # -- the bulk, by SQL ----------------------------------------------------------------------------------

    def supporters(self, world: dict) -> None:
        from mobilise.languages import fold

        n = self.sizes["supporters"]
        office_ids = [world["offices"][code] for code, *_ in OFFICES]
        self.run(
            f"""CREATE TEMP TABLE people AS
               SELECT n,
                      {pick(r("n", 1, 100), [(o[4], office_ids[i]) for i, o in enumerate(OFFICES)])} AS office_id,
                      {r("n", 2, len(FIRST))} + 1 AS fi, {r("n", 3, len(LAST))} + 1 AS li,
                      {r("n", 4)} < 50 AS no_last,
                      {pick(r("n", 5, 100), [(w, literal(d)) for w, d in DOMAINS])} AS domain,
                      {pick(r("n", 6), [(w, literal(k)) for w, k in KINDS])} AS kind,
                      {r("n", 7)} AS lang_draw,
                      {pick(r("n", 8), [(w, literal(s)) for w, s in SOURCES])} AS source,
                      {r("n", 9)} < 120 AS signed_up,
                      now() AT TIME ZONE 'UTC' - interval '1800 days' + (n::float / :n) * interval '1790 days' AS created,
                      now() AT TIME ZONE 'UTC' - {r("n", 10, 7 * 86400)} * interval '1 second' AS stopped
               FROM generate_series(1, :n) AS n""",
            n=n,
        )
        self.run("UPDATE people SET created = stopped WHERE kind = 'pending'")  # a sign-up waiting: recent
        first = [f for f, _ in FIRST]
        self.run(
            """INSERT INTO supporters (id, office_id, email, first_name, last_name, language, status, consent_source,
                                      consent_at, status_changed_at, created_at, erased_at, search_text)
               SELECT p.n, p.office_id,
                      CASE WHEN p.kind <> 'erased' THEN
                           (CAST(:first_ascii AS text[]))[p.fi] || '.' || (CAST(:last_ascii AS text[]))[p.li] || p.n || '@' || p.domain END,
                      CASE WHEN p.kind NOT IN ('erased', 'pending') THEN (CAST(:first AS text[]))[p.fi] ELSE '' END,
                      CASE WHEN p.kind NOT IN ('erased', 'pending') AND NOT p.no_last THEN (CAST(:last AS text[]))[p.li] ELSE '' END,
                      CASE WHEN p.kind IN ('erased', 'pending') THEN NULL
                           WHEN p.lang_draw < 700 THEN o.language WHEN p.lang_draw < 900 THEN NULL
                           ELSE (CAST(:others AS text[]))[1 + p.lang_draw % 5] END,
                      CASE WHEN p.kind = 'erased' THEN 'unsubscribed' WHEN p.kind = 'pending' THEN 'pending'
                           ELSE p.kind END,
                      CASE WHEN p.kind NOT IN ('erased', 'pending') AND NOT p.signed_up THEN p.source END,
                      CASE WHEN p.kind NOT IN ('erased', 'pending') AND NOT p.signed_up THEN p.created END,
                      CASE WHEN p.kind IN ('subscribed', 'pending') THEN p.created ELSE p.stopped END,
                      p.created,
                      CASE WHEN p.kind = 'erased' THEN p.stopped END,
                      CASE WHEN p.kind = 'erased' THEN NULL
                           WHEN p.kind = 'pending' THEN (CAST(:first_ascii AS text[]))[p.fi] || '.' || (CAST(:last_ascii AS text[]))[p.li] || p.n || '@' || p.domain
                           ELSE (CAST(:first_folded AS text[]))[p.fi] || CASE WHEN p.no_last THEN '' ELSE ' ' || (CAST(:last_folded AS text[]))[p.li] END
                                || E'\\n' || (CAST(:first_ascii AS text[]))[p.fi] || '.' || (CAST(:last_ascii AS text[]))[p.li] || p.n || '@' || p.domain
                      END
               FROM people p JOIN offices o ON o.id = p.office_id ORDER BY p.n""",
            first=first,
            last=[name for name, _ in LAST],
            first_ascii=[a for _, a in FIRST],
            last_ascii=[a for _, a in LAST],
            first_folded=[fold(f) for f in first],
            last_folded=[fold(name) for name, _ in LAST],
            others=OTHER_LANGUAGES,
        )
        self.run("SELECT setval(pg_get_serial_sequence('supporters', 'id'), :n)", n=n)
        # The text a search reads is the service's own: the folding done here in SQL agrees with search_text_of.
        from mobilise.supporters.models import search_text_of

        for first_name, last_name, email, text in self.run(
            "SELECT first_name, last_name, email, search_text FROM supporters WHERE erased_at IS NULL"
            " ORDER BY hashint8(id) LIMIT 2000"
        ):
            assert text == search_text_of(first_name, last_name, email), (first_name, last_name, email, text)
        # Tags: none for an erased supporter (the erasure deletes them) nor a pending one (a sign-up brings none).
        self.run(
            f"""INSERT INTO supporter_tags (supporter_id, tag)
               SELECT p.n, t.tag FROM people p CROSS JOIN unnest(CAST(:tags AS text[]), CAST(:rates AS int[]))
                      WITH ORDINALITY AS t(tag, rate, k)
               WHERE p.kind NOT IN ('erased', 'pending') AND {r("p.n * 16 + t.k", 11)} < t.rate""",
            tags=[t for t, _ in TAGS],
            rates=[rate for _, rate in TAGS],
        )

    def consent(self) -> None:
        """Each supporter's history, in the sources the service's writers give each step."""
        steps = [
            # added by staff (the importer, the API): consent given, with the row's source or the writer's own
            """SELECT n, 'given', coalesce(source, CASE WHEN n % 3 = 0 THEN 'api' ELSE 'import' END), NULL, created,
                      NULL::timestamp FROM people WHERE kind NOT IN ('erased', 'pending') AND NOT signed_up""",
            # a public sign-up: the request (its email done), then the confirmation link followed
            f"""SELECT n, 'requested', 'sign-up form', (CAST(:networks AS text[]))[1 + {r("n", 12, 4)}], created,
                       created + interval '4 seconds' FROM people WHERE kind = 'pending' OR (signed_up AND kind <> 'erased')""",
            f"""SELECT n, 'confirmed', 'confirmation link in the email', (CAST(:networks AS text[]))[1 + {r("n", 13, 4)}],
                       created + interval '20 minutes', NULL FROM people WHERE signed_up AND kind NOT IN ('erased', 'pending')""",
            # the steps that stopped the mail
            f"""SELECT n, 'withdrawn', 'unsubscribe link in an email', (CAST(:networks AS text[]))[1 + {r("n", 14, 4)}], stopped, NULL
                FROM people WHERE kind = 'unsubscribed'""",
            """SELECT n, 'complained', 'ses report: complaint', NULL, stopped, NULL FROM people WHERE kind = 'complained'""",
            # an erasure leaves one row: when, and nothing about whom
            """SELECT n, 'erased', NULL, NULL, stopped, NULL FROM people WHERE kind = 'erased'""",
        ]
        for select in steps:
            self.run(
                f"INSERT INTO consent_changes (supporter_id, change, source, network, at, emailed_at) {select}",
                networks=NETWORKS,
            )

    def sends(self, world: dict) -> list[int]:
        """Each drive's launch email sent to the office's mailable supporters, while --deliveries last; the ids of
        the mailings sent."""
        left = self.sizes["deliveries"]
        sent = []
        order = [key for key in world["drives"] if not key.startswith("closed")]
        for key in order:
            if left <= 0:
                break
            mailing_id, office_id, send_at = self.run(
                """SELECT m.id, d.office_id, m.send_at FROM mailings m JOIN drives d ON d.id = m.drive_id
                   WHERE m.drive_id = :d AND m.stage = 'launch'""",
                d=world["drives"][key],
            ).one()
            # Everyone mailable then: all but the pending (a supporter who stopped since was subscribed when sent).
            added = self.run(
                """INSERT INTO deliveries (mailing_id, supporter_id, status, attempts, sent_at)
                   SELECT :m, n, 'sent', 0, :at + (row_number() OVER (ORDER BY n)) * interval '2 milliseconds'
                   FROM people WHERE office_id = :o AND kind <> 'pending' ORDER BY n LIMIT :left""",
                m=mailing_id,
                o=office_id,
                at=send_at,
                left=left,
            ).rowcount
            left -= added
            self.run(
                """UPDATE mailings SET status = 'sent', queued_at = send_at, audience_taken_at = send_at,
                          finished_at = send_at + interval '30 minutes' WHERE id = :m""",
                m=mailing_id,
            )
            for url in ("/cases/{slug}", "/cases/{slug}/ua.pdf"):
                self.run(
                    """INSERT INTO mailing_links (mailing_id, url)
                       SELECT :m, :base || replace(:url, '{slug}', c.slug) || '?office=' || o.code
                       FROM mailings m JOIN drives d ON d.id = m.drive_id JOIN cases c ON c.id = d.case_id
                       JOIN offices o ON o.id = d.office_id WHERE m.id = :m""",
                    m=mailing_id,
                    base="http://localhost:5000",
                    url=url,
                )
            sent.append(mailing_id)
        # The mailings not sent (reminders ahead, the closed case's) stay as the service left them.
        # The stopping step of a bounced or complained supporter came from their latest email: refused at RCPT
        # (failed, never accepted) or reported after it was accepted (bounced).
        self.run(
            f"""CREATE TEMP TABLE latest AS
               SELECT DISTINCT ON (d.supporter_id) d.supporter_id, d.id, d.mailing_id, p.kind,
                      {r("d.supporter_id", 15)} < 500 AS refused
               FROM deliveries d JOIN people p ON p.n = d.supporter_id
               ORDER BY d.supporter_id, d.id DESC"""
        )
        self.run("CREATE INDEX ON latest (supporter_id)")
        # Whoever stopped the mail did so within two days of their latest email (a bounce, a complaint, the link).
        self.run(
            f"""UPDATE people p SET stopped = m.send_at + {r("p.n", 18, 2 * 86400)} * interval '1 second'
               FROM latest l JOIN mailings m ON m.id = l.mailing_id
               WHERE l.supporter_id = p.n AND p.kind NOT IN ('subscribed', 'pending')"""
        )
        self.run(
            """UPDATE supporters s SET status_changed_at = p.stopped,
                      erased_at = CASE WHEN p.kind = 'erased' THEN p.stopped END
               FROM people p WHERE s.id = p.n AND p.kind NOT IN ('subscribed', 'pending')"""
        )
        self.run(
            """UPDATE deliveries d SET status = 'failed', sent_at = NULL, error = CASE WHEN l.kind = 'erased' THEN NULL
                                   ELSE :refused END
               FROM latest l WHERE d.id = l.id AND l.kind = 'bounced' AND l.refused""",
            refused=REFUSED,
        )
        self.run(
            "UPDATE deliveries d SET status = 'bounced' FROM latest l WHERE d.id = l.id AND l.kind = 'bounced' AND NOT l.refused"
        )
        self.run(
            """INSERT INTO bounces (supporter_id, delivery_id, mailing_id, kind, source, detail, created_at)
               SELECT l.supporter_id, l.id, l.mailing_id, CASE WHEN l.kind = 'complained' THEN 'complaint' ELSE 'hard' END,
                      CASE WHEN l.kind = 'bounced' AND l.refused THEN 'relay' ELSE 'ses' END,
                      CASE WHEN l.kind = 'bounced' AND l.refused THEN :refused
                           WHEN l.kind = 'bounced' THEN 'smtp; 550 5.1.1 The email account that you tried to reach does not exist'
                           ELSE 'abuse' END,
                      p.stopped
               FROM latest l JOIN people p ON p.n = l.supporter_id WHERE l.kind IN ('bounced', 'complained')""",
            refused=REFUSED,
        )
        # A bounced supporter's history says who reported it; one with no email sent was reported through the API.
        self.run(
            """INSERT INTO consent_changes (supporter_id, change, source, at)
               SELECT p.n, 'bounced', CASE WHEN l.refused THEN 'relay refused the address: ' || :refused
                                            WHEN l.id IS NOT NULL THEN 'ses report: hard' ELSE 'relay report: hard' END,
                      p.stopped
               FROM people p LEFT JOIN latest l ON l.supporter_id = p.n WHERE p.kind = 'bounced'""",
            refused=REFUSED,
        )
        self.run(
            """INSERT INTO bounces (supporter_id, kind, source, detail, created_at)
               SELECT p.n, 'hard', 'api', NULL, p.stopped FROM people p LEFT JOIN latest l ON l.supporter_id = p.n
               WHERE p.kind = 'bounced' AND l.id IS NULL"""
        )
        return sent

    def events(self) -> None:
        """Opens and clicks spread over the accepted emails (a few people open many times, most never), and the
        unsubscribes of those who left by the link, as the tracking writer records them."""
        total_events = self.sizes["events"]
        self.run(
            """CREATE TEMP TABLE picks AS
               SELECT row_number() OVER (ORDER BY hashint8(d.id), d.id) AS k, d.id, d.mailing_id, d.sent_at
               FROM deliveries d WHERE d.status IN ('sent', 'bounced')"""
        )
        self.run("CREATE INDEX ON picks (k)")
        accepted = self.scalar("SELECT count(*) FROM picks")
        if not accepted:
            return
        self.run(
            """INSERT INTO events (kind, delivery_id, machine, reason, network, created_at)
               SELECT 'unsubscribe', l.id, false, NULL, NULL, p.stopped
               FROM latest l JOIN people p ON p.n = l.supporter_id JOIN deliveries d ON d.id = l.id
               WHERE p.kind IN ('unsubscribed', 'erased') AND d.status = 'sent'"""
        )
        left = max(0, total_events - self.scalar("SELECT count(*) FROM events"))
        opens = round(left * 0.7)
        # Opens on the first 45% of the emails in a shuffled order, clicks on the first 15% (people who click
        # opened first), a few emails opened or clicked again; each after its email was accepted.
        for kind, count, share, salt, judged in (
            ("open", opens, 0.45, 16, OPEN_JUDGED),
            ("click", left - opens, 0.15, 17, CLICK_JUDGED),
        ):
            if count <= 0:
                continue
            machine = pick(r("g", salt), [(w, "true" if machine else "false") for w, machine, _ in judged])
            reason = pick(r("g", salt), [(w, literal(why)) for w, _, why in judged])
            self.run(
                f"""INSERT INTO events (event_key, kind, delivery_id, link_id, machine, reason, network, created_at)
                   SELECT md5(:kind || g), :kind, p.id,
                          {"(SELECT min(id) FROM mailing_links WHERE mailing_id = p.mailing_id)" if kind == "click" else "NULL"},
                          {machine}, {reason}, (CAST(:networks AS text[]))[1 + {r("g", salt + 1, 4)}],
                          p.sent_at + {r("g", salt + 2, 3 * 86400)} * interval '1 second'
                   FROM generate_series(1, :count) AS g
                   JOIN picks p ON p.k = 1 + (g::bigint * 7919) % greatest(1, (:accepted * :share)::bigint)""",
                kind=kind,
                count=count,
                accepted=accepted,
                share=share,
                networks=NETWORKS,
            )

    def actions(self) -> None:
        """Many who clicked a human click acted: one action per supporter and case, from that email."""
        self.run(
            """INSERT INTO actions (case_id, office_id, supporter_id, delivery_id, source, created_at)
               SELECT case_id, office_id, supporter_id, delivery_id, 'email', at FROM (
                   SELECT DISTINCT ON (d.supporter_id, dr.case_id) dr.case_id, dr.office_id, d.supporter_id,
                          d.id AS delivery_id, e.created_at + interval '3 minutes' AS at
                   FROM events e JOIN deliveries d ON d.id = e.delivery_id JOIN mailings m ON m.id = d.mailing_id
                   JOIN drives dr ON dr.id = m.drive_id
                   WHERE e.kind = 'click' AND NOT e.machine
                   ORDER BY d.supporter_id, dr.case_id, e.created_at) AS first_clicks
               ORDER BY hashint8(supporter_id) LIMIT :n""",
            n=self.sizes["actions"],
        )

    def audit(self, world: dict) -> None:
        """A year of staff's acts, oldest first, each by one of its office's staff (an admin's now and then)."""
        emails, staff_ids, office_ids = [], [], []
        for email, staff_id, office_id in self.run("SELECT email, id, office_id FROM staff ORDER BY id"):
            emails.append(email)
            staff_ids.append(staff_id)
            office_ids.append(office_id)
        self.run(
            f"""INSERT INTO audit_entries (at, staff_id, actor, office_id, action, subject, details, network)
               SELECT now() AT TIME ZONE 'UTC' - interval '395 days' * (1 - g::float / :n), (CAST(:staff AS int[]))[w],
                      (CAST(:emails AS text[]))[w], (CAST(:offices AS int[]))[w], a,
                      CASE WHEN a IN ('supporter.exported', 'supporter.erased')
                           THEN 'supporter ' || (1 + g % :supporters) END,
                      CASE WHEN a = 'supporters.added' THEN json_build_object('created', g % 7, 'updated', g % 3,
                                                                              'rejected', 0)
                           ELSE '{{}}'::json END,
                      (CAST(:networks AS text[]))[1 + {r("g", 21, 4)}]
               FROM (SELECT g, 1 + {r("g", 22, len(emails))} AS w,
                            {pick(r("g", 23), [(w, literal(a)) for w, a in AUDIT_ACTIONS])} AS a
                     FROM generate_series(1, :n) AS g) AS drawn""",
            n=self.sizes["audit"],
            staff=staff_ids,
            emails=emails,
            offices=office_ids,
            supporters=self.sizes["supporters"],
            networks=NETWORKS,
        )

    def webhooks(self, world: dict) -> int:
        """The biggest office's receiver of actions and unsubscribes, with the delivery log of its last 30 days:
        one row per event, as `emit` writes it (the keyed digest of the address made here, in Python)."""
        from mobilise.offices.models import Office
        from mobilise.outbound.endpoints import register
        from mobilise.tokens import address_digest

        office = self.db.session.get(Office, world["offices"]["GB"])
        endpoint, _ = register(
            office, {"url": "http://127.0.0.1:9/crm/hooks", "events": ["action.created", "supporter.unsubscribed"]}
        )
        endpoint_id = endpoint.id
        rows = self.run(
            """SELECT 'action.created', s.email, c.reference, a.created_at FROM actions a
               JOIN supporters s ON s.id = a.supporter_id JOIN cases c ON c.id = a.case_id
               WHERE a.office_id = :o AND s.email IS NOT NULL AND a.created_at > now() AT TIME ZONE 'UTC' - interval '30 days'
               UNION ALL
               SELECT 'supporter.unsubscribed', s.email, NULL, s.status_changed_at FROM supporters s
               WHERE s.office_id = :o AND s.status = 'unsubscribed' AND s.email IS NOT NULL
               ORDER BY 4 LIMIT :n""",
            o=office.id,
            n=self.sizes["webhooks"],
        ).all()
        connection = self.db.session.connection().connection.driver_connection
        with connection.cursor().copy(
            "COPY webhook_deliveries (endpoint_id, message_id, type, payload, email_digest, status, attempts,"
            " next_attempt_at, last_status_code, created_at, delivered_at) FROM STDIN"
        ) as copy:
            import json

            for k, (kind, email, reference, at) in enumerate(rows):
                payload = {"type": kind, "office": "GB"} | ({"case": reference} if reference else {})
                payload |= {"supporter": {"email": email}, "at": at.isoformat(timespec="seconds") + "Z"}
                status = "failed" if k % 97 == 0 else "pending" if k >= len(rows) - 20 else "delivered"
                copy.write_row(
                    (
                        endpoint_id,
                        f"msg_{secrets.token_urlsafe(18)}",
                        kind,
                        json.dumps(payload),
                        address_digest(email),
                        status,
                        1 if status == "delivered" else 12 if status == "failed" else 0,
                        at if status == "pending" else None,
                        204 if status == "delivered" else 503 if status == "failed" else None,
                        at,
                        at + timedelta(seconds=1) if status == "delivered" else None,
                    )
                )
        return endpoint_id

    def imports(self, world: dict) -> int:
        """A finished import of the biggest office, with its rejected lines, as its progress page shows it."""
        return self.scalar(
            """INSERT INTO imports (office_id, filename, status, total_bytes, done_bytes, created, updated, rejected,
                                    errors, created_at, finished_at)
               VALUES (:o, 'supporters-2025.csv', 'done', 41000000, 41000000, 398000, 1200, 2,
                       CAST(:errors AS json), now() AT TIME ZONE 'UTC' - interval '1 day',
                       now() AT TIME ZONE 'UTC' - interval '23 hours') RETURNING id""",
            o=world["offices"]["GB"],
            errors='[{"line": 17, "error": "email: not an email address"}, {"line": 90311, "error": "email: is required"}]',
        )
