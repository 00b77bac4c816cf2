"""Tiny builders: the least a test needs, every field overridable."""

from datetime import date, timedelta

from mobilise.auth.service import create_staff, issue_token
from mobilise.cases.service import create_case
from mobilise.offices.service import create_office
from mobilise.supporters.service import upsert_supporters


def make_office(**overrides):
    data = {
        "code": "GB",
        "name": "Amnesty UK",
        "language": "en",
        "timezone": "Europe/London",
        "sender": "ua@uk.example.org",
        "sender_name": "Amnesty UK",
        "reply_to": "help@uk.example.org",
        "address": "17-25 New Inn Yard\nLondon EC2A 3EA",
    }
    data.update(overrides)
    return create_office(data)


def make_supporters(office, count, **overrides):
    rows = [
        {"email": f"person{n}@{office.code.lower()}.example.net", "first_name": f"Person{n}", **overrides}
        for n in range(count)
    ]
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
        "target": {
            "name": "Nicolás Maduro",
            "title": "President of the Republic",
            "address": "Palacio de Miraflores\nCaracas, Venezuela",
            "salutation": "Mr Nicolás Maduro",
        },
        "target_language": "es",
        "model_letter": "We call for the immediate release of Eduardo Torres.",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "people": "Eduardo Torres",
        "pronoun": "he/him",
    }
    data.update(overrides)
    return data


# The builders' case (case_data) in each other language, every text of it: a translation a reader gets whole.
TRANSLATED = {
    "es": {
        "title": "Cesen las detenciones y los ataques contra defensores",
        "summary": "Eduardo Torres está recluido en El Helicoide.",
        "pronoun": "él",
        "target": {"title": "Presidente de la República", "salutation": "Señor Presidente"},
        "model_letter": "Pedimos la liberación inmediata de Eduardo Torres.",
    },
    "fr": {
        "title": "Cessez les détentions et les attaques contre les défenseurs",
        "summary": "Eduardo Torres est détenu à El Helicoide.",
        "pronoun": "il",
        "target": {"title": "Président de la République", "salutation": "Monsieur le Président"},
        "model_letter": "Nous demandons la libération immédiate d'Eduardo Torres.",
    },
    "de": {
        "title": "Inhaftierungen und Angriffe auf Verteidiger beenden",
        "summary": "Eduardo Torres wird in El Helicoide festgehalten.",
        "pronoun": "er",
        "target": {"title": "Präsident der Republik", "salutation": "Sehr geehrter Herr Präsident"},
        "model_letter": "Wir fordern die sofortige Freilassung von Eduardo Torres.",
    },
    "pt": {
        "title": "Parem as detenções e os ataques contra defensores",
        "summary": "Eduardo Torres está detido em El Helicoide.",
        "pronoun": "ele",
        "target": {"title": "Presidente da República", "salutation": "Senhor Presidente"},
        "model_letter": "Pedimos a libertação imediata de Eduardo Torres.",
    },
    "it": {
        "title": "Fermate le detenzioni e gli attacchi contro i difensori",
        "summary": "Eduardo Torres è detenuto a El Helicoide.",
        "pronoun": "lui",
        "target": {"title": "Presidente della Repubblica", "salutation": "Signor Presidente"},
        "model_letter": "Chiediamo il rilascio immediato di Eduardo Torres.",
    },
}


def translated(*languages, **overrides):
    """`translations` for case_data: the builders' case whole in each of `languages`, fields overridable."""
    return {code: {**TRANSLATED[code], **overrides} for code in languages}


def make_case(**overrides):
    return create_case(case_data(**overrides))


def token_for(email, *, admin=False, office=None, role=None):
    create_staff(email, admin=admin, office_code=office, password="correct horse battery", role=role)
    return issue_token(email)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
