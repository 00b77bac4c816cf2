"""Tiny builders: the least a test needs, every field overridable."""
from datetime import date, timedelta

from mobilise.auth.service import create_staff, issue_token
from mobilise.cases.service import create_case
from mobilise.offices.service import create_office
from mobilise.supporters.service import upsert_supporters


def make_office(**overrides):
    data = {
        "code": "GB", "name": "Amnesty UK", "language": "en", "timezone": "Europe/London",
        "sender": "ua@uk.example.org", "sender_name": "Amnesty UK", "reply_to": "help@uk.example.org",
        "address": "17-25 New Inn Yard\nLondon EC2A 3EA",
    }
    data.update(overrides)
    return create_office(data)


def make_supporters(office, count, **overrides):
    rows = [{"email": f"person{n}@{office.code.lower()}.example.net", "first_name": f"Person{n}", **overrides}
            for n in range(count)]
    if "email" in overrides and count != 1:
        raise ValueError("an email override makes one supporter")
    upsert_supporters(office, rows)
    return rows


def case_data(**overrides):
    data = {
        "reference": "UA 53/25",
        "ai_index": "AMR 53/9384/2025",
        "title": "Cease detentions and attacks on defenders",
        "summary": "Eduardo Torres is held at El Helicoide.",
        "target": {"name": "Nicolás Maduro", "title": "President of the Republic",
                   "address": "Palacio de Miraflores\nCaracas, Venezuela", "salutation": "Mr Nicolás Maduro"},
        "target_language": "es",
        "model_letter": "We call for the immediate release of Eduardo Torres.",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "people": "Eduardo Torres", "pronoun": "he/him",
    }
    data.update(overrides)
    return data


def make_case(**overrides):
    return create_case(case_data(**overrides))


def token_for(email, *, admin=False, office=None):
    create_staff(email, admin=admin, office_code=office, password="correct horse battery")
    return issue_token(email)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
