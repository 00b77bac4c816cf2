"""`flask --app app demo`: a working service for a newcomer, from an empty database."""

import json
import random
from datetime import timedelta
from pathlib import Path

from flask import current_app

from .auth.service import create_staff, issue_token
from .cases.service import create_case
from .cases.ua_document import parse_ua_document
from .clock import utcnow
from .extensions import db
from .offices.models import Office
from .offices.service import create_office
from .sequences.dispatch import start_drive
from .supporters.service import upsert_supporters

# A copy of shared/seeds/ua-document.txt, so the demo works wherever the package goes.
SEED_UA = Path(__file__).parent / "demo_data" / "ua-document.txt"
# The seed UA in Spanish and French, every text of it, so the ES and FR offices read it wholly in their language
# and the action page offers the letter in Spanish, the language the target (Venezuela's president) reads.
SEED_TRANSLATIONS = Path(__file__).parent / "demo_data" / "ua-translations.json"

OFFICES = [
    {
        "code": "GB",
        "name": "Amnesty International UK",
        "language": "en",
        "timezone": "Europe/London",
        "sender": "urgent-actions@uk.example.org",
        "sender_name": "Amnesty UK Urgent Actions",
        "reply_to": "supporters@uk.example.org",
        "address": "The Human Rights Action Centre\n17-25 New Inn Yard\nLondon EC2A 3EA",
    },
    {
        "code": "ES",
        "name": "Amnistía Internacional España",
        "language": "es",
        "timezone": "Europe/Madrid",
        "sender": "acciones@es.example.org",
        "sender_name": "Amnistía Internacional",
        "address": "Calle Fuencarral 123\n28010 Madrid",
    },
    {
        "code": "FR",
        "name": "Amnesty International France",
        "language": "fr",
        "timezone": "Europe/Paris",
        "sender": "actions@fr.example.org",
        "sender_name": "Amnesty France",
        "address": "76 boulevard de la Villette\n75019 Paris",
    },
]
FIRST = [
    "Ana",
    "Ben",
    "Chloé",
    "Dário",
    "Élodie",
    "Farah",
    "Grace",
    "Hugo",
    "Iñaki",
    "Jamal",
    "Kavya",
    "Léa",
    "Mateo",
    "Nia",
    "Oisín",
    "Priya",
    "Rocío",
    "Sam",
    "Tomás",
    "Zoë",
    "Юлия",
    "李娜",
]
LAST = ["Okafor", "Smith", "García", "Martin", "Núñez", "Dubois", "Khan", "O'Brien", "Rossi", "Nowak", "Silva"]
TAGS = ["letter-writers", "students", "volunteers", "donors"]
SUPPORTERS_PER_OFFICE = 120
DEMO_ROLES = [("campaigner", "campaigner@uk.example.org"), ("viewer", "viewer@uk.example.org")]


class DemoRefused(Exception):
    pass


def load_demo() -> list[str]:
    if db.session.scalar(db.select(db.func.count(Office.id))):
        raise DemoRefused("the database already has data: demo left it alone")
    rng = random.Random(53)
    offices = [create_office(data) for data in OFFICES]
    for office in offices:
        rows = []
        for n in range(SUPPORTERS_PER_OFFICE):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            rows.append(
                {
                    "email": f"supporter{n:03d}@{office.code.lower()}.demo.example.org",
                    "first_name": first,
                    "last_name": last,
                    "language": rng.choice([office.language, office.language, "en"]),
                    "tags": rng.sample(TAGS, rng.randint(0, 2)),
                    "consent_source": "demo data",
                }
            )
        upsert_supporters(office, rows)

    fields = parse_ua_document(SEED_UA.read_text(encoding="utf-8"))
    # The seed's deadline has passed; the demo moves it a month ahead so the case is live.
    fields["deadline"] = (utcnow().date() + timedelta(days=30)).isoformat()
    fields.update(reference="UA 53/25", ai_index="AMR 53/9384/2025")
    fields["translations"] = json.loads(SEED_TRANSLATIONS.read_text(encoding="utf-8"))
    case = create_case(fields)

    # GB's drive is launched, so a worker has emails to send and the stats have numbers;
    # ES and FR are left for the newcomer to launch.
    start_drive(case, offices[0], {"office": "GB"})

    _, admin_password = create_staff("admin@demo.example.org", admin=True, office_code=None, password=None)
    _, gb_password = create_staff("staff@uk.example.org", admin=False, office_code="GB", password=None)
    # GB's other roles, to try what each may do (README, "Roles"): a campaigner, and a viewer who only reads.
    others = [
        (role, email, create_staff(email, admin=False, office_code="GB", password=None, role=role)[1])
        for role, email in DEMO_ROLES
    ]
    return [
        f"demo: {len(offices)} offices ({', '.join(o.code for o in offices)}), "
        f'{SUPPORTERS_PER_OFFICE * len(offices)} supporters, case {case.id} "{case.title}" (live, deadline {case.deadline}), launched for GB',
        f"public case page: {current_app.config['PUBLIC_BASE_URL']}/cases/{case.slug}?office=GB (ES, FR in Spanish, French)",
        f"admin@demo.example.org password: {admin_password}",
        f"admin API token: {issue_token('admin@demo.example.org')}",
        f"staff@uk.example.org (GB) password: {gb_password}",
        f"GB API token: {issue_token('staff@uk.example.org')}",
        *(
            line
            for role, email, password in others
            for line in (f"{email} (GB {role}) password: {password}", f"GB {role} API token: {issue_token(email)}")
        ),
    ]
