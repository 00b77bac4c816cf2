"""The full UA to download: a PDF whose text holds the target and the letter, an RTF that parses."""

from io import BytesIO

from pypdf import PdfReader
from striprtf.striprtf import rtf_to_text

from mobilise.cases.service import create_case
from mobilise.cases.ua_document import parse_ua_document

from .builders import translated
from .test_ua_document import SEED


def seed_case(**overrides):
    fields = parse_ua_document(SEED.read_text(encoding="utf-8"))
    fields.update(deadline="2027-03-01", reference="UA 53/25", ai_index="AMR 53/9384/2025", **overrides)
    return create_case(fields)


def test_the_pdf_holds_the_target_the_letter_and_accented_names(app, client):
    case = seed_case()
    response = client.get(f"/cases/{case.slug}/ua.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{case.slug}.pdf"'
    reader = PdfReader(BytesIO(response.data))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for expected in (
        "URGENT ACTION",
        "CEASE DETENTIONS AND ATTACKS ON DEFENDERS",
        "President of the Republic Nicolás Maduro",
        "Palacio de Miraflores",
        "Mr Nicolás Maduro,",
        "We take note of the disclosure of Eduardo Torres",
        "Rocío San Miguel",
        "ADDITIONAL INFORMATION",
        "PREFERRED LANGUAGE TO ADDRESS TARGET: Spanish",
        "UNTIL: 1 March 2027",
        "AMR 53/9384/2025",
    ):
        assert expected in text, expected


def test_the_rtf_parses_and_keeps_accents(app, client):
    case = seed_case()
    response = client.get(f"/cases/{case.slug}/ua.rtf")
    assert response.status_code == 200 and response.mimetype == "application/rtf"
    raw = response.data.decode("ascii")
    assert raw.startswith("{\\rtf1") and raw.count("{") == raw.count("}")
    text = rtf_to_text(raw)
    for expected in (
        "URGENT ACTION",
        "Nicolás Maduro",
        "Rocío San Miguel",
        "Palacio de Miraflores",
        "We take note of the disclosure",
        "Yours sincerely,",
    ):
        assert expected in text, expected


def test_a_translation_is_downloaded_in_its_language_and_drafts_are_not_public(app, client):
    case = seed_case(
        translations=translated(
            "es",
            title="Cesen las detenciones",
            model_letter="Libere a Eduardo Torres.",
            additional_information="El gobierno reprime a los defensores.",
        )
    )
    text = rtf_to_text(client.get(f"/cases/{case.slug}/ua.rtf?lang=es").data.decode("ascii"))
    assert "CESEN LAS DETENCIONES" in text and "Señor Presidente" in text
    draft = create_case(
        {**parse_ua_document(SEED.read_text(encoding="utf-8")), "deadline": "2027-03-01"}, status="draft"
    )
    assert client.get(f"/cases/{draft.slug}/ua.pdf").status_code == 404
    assert client.get("/cases/no-such-case/ua.rtf").status_code == 404
