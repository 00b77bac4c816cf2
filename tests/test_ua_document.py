"""Reading UA documents: the seed, and documents written for these tests with the variations real ones have."""

from pathlib import Path

import pytest

from mobilise.cases.ua_document import UnreadableDocument, parse_ua_document

HERE = Path(__file__).resolve().parent
SEED = HERE.parents[1] / "shared" / "seeds" / "ua-document.txt"
if not SEED.exists():
    SEED = HERE.parent / "mobilise" / "demo_data" / "ua-document.txt"


def read(name: str) -> dict:
    path = SEED if name == "seed" else HERE / "ua_documents" / f"{name}.txt"
    return parse_ua_document(path.read_text(encoding="utf-8"))


def test_the_seed():
    case = read("seed")
    assert case["title"] == "Cease detentions and attacks on defenders"
    assert case["summary"].startswith("After concealing Eduardo Torres' fate")
    assert case["target"] == {
        "name": "Nicolás Maduro",
        "title": "President of the Republic",
        "address": "Palacio de Miraflores\nAv. Nte. 10, Caracas 1012\nCaracas, Venezuela",
        "salutation": "Mr Nicolás Maduro",
    }
    assert case["model_letter"].startswith("We take note of the disclosure")
    assert case["model_letter"].endswith("we demand a stop to all attacks on civic space.")
    assert "Yours sincerely" not in case["model_letter"] and "Palacio" not in case["model_letter"]
    assert case["additional_information"].startswith("Nicolás Maduro's government's long-standing policy")
    assert "[2,000 people arbitrarily detained](#)" not in case["additional_information"]
    assert "2,000 people arbitrarily detained for political reasons" in case["additional_information"]
    assert (case["target_language"], case["deadline"]) == ("es", "2025-11-21")
    assert (case["people"], case["pronoun"]) == ("Venezuelan human rights defenders", "they/them")
    assert case["previous_reference"] == "www.amnesty.org/en/documents/amr53/9384/2025/en/"
    assert "reference" not in case and "ai_index" not in case  # the seed has neither, and still reads


def test_metadata_lines_a_name_under_its_title_and_a_bracketed_signature():
    case = read("iran-judiciary")
    assert (case["reference"], case["ai_index"]) == ("UA 12/26", "MDE 13/1234/2026")
    assert case["title"] == "Woman rights defender at risk of execution"
    assert case["summary"].count("\n\n") == 1
    assert case["target"]["name"] == "Gholamhossein Mohseni Ejei"
    assert case["target"]["title"] == "Head of the Judiciary"
    assert case["target"]["address"].splitlines() == [
        "c/o Embassy of Iran to the European Union",
        "Avenue Franklin Roosevelt No. 15",
        "1050 Brussels, Belgium",
    ]
    assert case["target"]["salutation"] == "Dear Mr Mohseni Ejei"
    assert "[Your name]" not in case["model_letter"] and "Yours sincerely" not in case["model_letter"]
    assert case["target_language"] == "fa"  # "Persian, English": the first one named
    assert (case["deadline"], case["people"], case["pronoun"]) == ("2026-04-28", "Sharifeh Mohammadi", "she/her")


def test_crlf_mixed_case_headings_extra_spaces_ordinal_dates_and_missing_optional_parts():
    case = read("students-crlf")
    assert case["title"] == "Release Student Activists Now"
    assert case["target"]["name"] == "Nigmatilla Yuldashev" and case["target"]["title"] == "Prosecutor General"
    assert case["target"]["salutation"] == "Your Excellency"
    assert case["model_letter"] == (
        "I am writing to express my concern about the detention of Aziz Karimov, "
        "Dilnoza Yusupova and Timur Rashidov.\n\nI urge you to release them immediately and unconditionally."
    )
    assert case["additional_information"] == 'The students were charged with "hooliganism".'
    assert (case["target_language"], case["deadline"]) == ("en", "2026-11-21")
    assert "\r" not in "".join(str(v) for v in case.values())
    for missing in ("people", "pronoun", "previous_reference", "reference"):
        assert missing not in case


def test_a_salutation_without_a_name_and_a_us_style_date():
    case = read("france-minister")
    assert case["target"]["name"] == "Bruno Retailleau"
    assert case["target"]["title"] == "Minister of the Interior"
    assert case["target"]["salutation"] == "Dear Minister"
    assert case["model_letter"].startswith("I call on you") and "Kind regards" not in case["model_letter"]
    assert "additional_information" not in case
    assert (case["target_language"], case["deadline"], case["pronoun"]) == ("fr", "2026-11-30", "they/them")
    assert case["previous_reference"].startswith("https://www.amnesty.org/")


def test_text_that_is_not_a_ua_names_everything_it_could_not_find():
    with pytest.raises(UnreadableDocument) as raised:
        read("news-article")
    assert raised.value.missing == ["title", "target", "model_letter", "deadline"]


def test_a_document_missing_only_its_deadline_says_so():
    text = SEED.read_text(encoding="utf-8").replace(
        "PLEASE TAKE ACTION AS SOON AS POSSIBLE UNTIL: 21 November 2025", ""
    )
    with pytest.raises(UnreadableDocument) as raised:
        parse_ua_document(text)
    assert raised.value.missing == ["deadline"]


def test_a_ua_pasted_from_a_pdf_reads_as_the_original():
    """Runs of spaces and tabs between words (headings and labels too), no-break spaces, page breaks, CRLF."""
    text = SEED.read_text(encoding="utf-8")
    pasted = (
        text.replace("TAKE ACTION: WRITE", "TAKE  ACTION:\tWRITE")
        .replace("ADDITIONAL INFORMATION", "ADDITIONAL\xa0INFORMATION")
        .replace("TO ADDRESS TARGET:", "TO   ADDRESS TARGET :")
        .replace("AS SOON AS", "AS\tSOON  AS")
        .replace("Yours sincerely", "Yours  sincerely")
        .replace("Mr Nicolás Maduro,", "Mr\xa0Nicolás  Maduro ,")
        .replace("NAME AND PREFERRED PRONOUN: Venezuelan human", "NAME AND  PREFERRED PRONOUN:   Venezuelan   human")
        .replace(". ", ".  ")
        .replace("\n\n", "\n\f\n")
        .replace("\n", "\r\n")
    )
    assert parse_ua_document(pasted) == read("seed")


def test_a_value_on_the_line_below_its_label_reads():
    text = SEED.read_text(encoding="utf-8").replace("UNTIL: 21 November 2025", "UNTIL:\n21 November 2025")
    assert parse_ua_document(text)["deadline"] == "2025-11-21"
