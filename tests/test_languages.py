"""Every stage in every language, the catalogs behind the shared wording, and the fallbacks."""
import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from mobilise.extensions import db
from mobilise.models import Mailing
from mobilise.sending.composer import Composer
from mobilise.sequences.models import STAGES
from mobilise.sequences.service import launch

from .builders import bearer, make_case, make_office, make_supporters, token_for, translated

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
# The English wording of the shared base: none of it may show through in another language.
ENGLISH = ["Hello", "Take action now", "Read the full case", "You receive this email", "Unsubscribe in one click",
           "Urgent Action", "days left", "day left", "Please write", "There is news", "The deadline is", "Thank you",
           "Time is running out", "More time", "Good news", "News:"]


@pytest.fixture
def drive(app):
    office = make_office(reminder_days=[3])
    case = make_case(
        high_risk=False,
        translations={**translated("es", title="Cesen las detenciones"), **translated("fr", title="Cessez les détentions")},
    )
    return launch(case, office, {"office": "GB"})


@pytest.mark.parametrize("language", ["en", "es", "fr"])
@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_renders_in_each_language(app, drive, stage, language):
    mailing = Mailing(drive=drive, stage=stage, audience="all", send_at=drive.mailings[0].send_at, body="Staff's words.",
                      body_translations={"es": "Staff's words.", "fr": "Staff's words."})
    db.session.add(mailing)
    db.session.commit()
    message = Composer(mailing).message(1, email="p@example.net", first_name="Ana", language=language)
    html, text = message.html, message.body
    assert f'<html lang="{language}">' in html
    assert "Staff's words." in text and "Staff's words." in html
    assert "Ana," in text
    assert "{{" not in html + text + message.subject and "@@" not in html + text + message.subject
    if language != "en":
        visible = re.sub(r"<[^>]+>", " ", html) + text + message.subject
        leaked = [phrase for phrase in ENGLISH if phrase in visible]
        assert leaked == [], f"untranslated in {stage}/{language}"
        assert {"es": "Cesen las detenciones", "fr": "Cessez les détentions"}[language] in message.subject + html


@pytest.mark.parametrize("language", ["es", "fr"])
def test_the_catalogs_are_complete_and_compiled(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as po_file:
        po = read_po(po_file)
    untranslated = [m.id for m in po if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert untranslated == []
    assert not any(m.fuzzy for m in po if m.id)
    with open(folder / "messages.mo", "rb") as mo_file:
        mo = read_mo(mo_file)
    def table(catalog):
        flat = lambda value: tuple(value) if isinstance(value, (list, tuple)) else (value,)  # noqa: E731
        return {flat(m.id): flat(m.string) for m in catalog if m.id}

    assert table(po) == table(mo), "run: pybabel compile -d translations"


def test_a_language_the_case_lacks_falls_back_to_the_office(app, relay, run_jobs):
    from mobilise.sequences.dispatch import start_drive

    spain = make_office(code="ES", name="España", language="es", timezone="Europe/Madrid", sender="a@es.example.org")
    make_supporters(spain, 1, language="de")
    case = make_case(translations=translated("es", title="Cesen las detenciones"))
    start_drive(case, spain, {"office": "ES"})
    run_jobs()
    [message] = relay.messages()
    assert message["Subject"] == "Acción Urgente: Cesen las detenciones"


def test_staff_preview_any_stage_in_any_language_and_send_themselves_a_test(app, client, relay):
    office = make_office()
    make_supporters(office, 3)
    case = make_case(translations=translated("fr", title="Cessez les détentions"))
    staff = token_for("staff@uk.example.org", office="GB")
    preview = client.get(f"/api/v1/cases/{case.id}/preview?stage=reminder&language=fr&body=Vite", headers=bearer(staff))
    assert preview.status_code == 200
    assert preview.json["language"] == "fr" and preview.json["audience"] == "not_acted"
    assert "Cessez les détentions" in preview.json["subject"] and "Vite" in preview.json["text"]
    assert "/o/" not in preview.json["html"] and "/c/" not in preview.json["html"]
    assert db.session.scalar(db.select(db.func.count(Mailing.id))) == 0  # a preview saves nothing

    sent = client.post(f"/api/v1/cases/{case.id}/test-email", json={"stage": "launch", "language": "en"}, headers=bearer(staff))
    assert sent.status_code == 202
    assert relay.recipients() == ["staff@uk.example.org"]
    assert relay.messages()[0]["Subject"].startswith("[TEST] Urgent Action:")

    assert client.get(f"/api/v1/cases/{case.id}/preview?stage=gossip", headers=bearer(staff)).status_code == 422
    admin = token_for("admin@example.org", admin=True)
    assert client.get(f"/api/v1/cases/{case.id}/preview", headers=bearer(admin)).status_code == 422
    assert client.get(f"/api/v1/cases/{case.id}/preview?office=GB", headers=bearer(admin)).status_code == 200
