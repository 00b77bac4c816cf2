"""A case in several languages: what staff see before a launch, and what each reader gets, whole."""

import re
from datetime import date, timedelta

from mobilise.extensions import db
from mobilise.models import Case

from .builders import TRANSLATED, bearer, case_data, make_case, make_office, make_supporters, token_for, translated

FRANCE = {
    "code": "FR",
    "name": "Amnesty International France",
    "language": "fr",
    "timezone": "Europe/Paris",
    "sender": "actions@fr.example.org",
}


def test_the_audience_says_who_reads_which_language_and_who_falls_back_before_anything_is_sent(app, client, relay):
    office = make_office()  # GB, English
    make_supporters(office, 3, language="en")
    for n, language in enumerate(["es", "es", "fr", None]):
        make_supporters(office, 1, email=f"p{n}@example.net", language=language)
    case = make_case(translations=translated("es"))
    staff = token_for("staff@uk.example.org", office="GB")

    before = client.get(f"/api/v1/cases/{case.id}/audience?office=GB", headers=bearer(staff))
    assert before.status_code == 200
    # The French reader falls back to the office's English; no language of one's own reads the office's.
    assert before.json == {"total": 7, "languages": {"en": 5, "es": 2}, "fallback": {"fr": 1}, "left_out": {}}
    assert relay.messages() == []

    only_spanish = client.get(f"/api/v1/cases/{case.id}/audience?office=GB&languages=es", headers=bearer(staff)).json
    assert only_spanish == {"total": 2, "languages": {"es": 2}, "fallback": {}, "left_out": {}}

    launched = client.post(f"/api/v1/cases/{case.id}/launch", json={"office": "GB"}, headers=bearer(staff))
    assert launched.status_code == 201 and launched.json["audience"] == before.json

    assert client.get(f"/api/v1/cases/{case.id}/audience", headers=bearer(staff)).status_code == 422
    assert client.get(f"/api/v1/cases/{case.id}/audience?office=ES", headers=bearer(staff)).status_code == 404


def test_a_french_office_sees_that_an_untranslated_case_would_go_out_in_english(app, client):
    france = make_office(**FRANCE)
    make_supporters(france, 4, language="fr")
    make_supporters(france, 1, email="en@example.net", language="en")
    case = make_case()
    staff = token_for("staff@fr.example.org", office="FR")
    audience = client.get(f"/api/v1/cases/{case.id}/audience?office=FR", headers=bearer(staff)).json
    assert audience == {"total": 5, "languages": {"en": 5}, "fallback": {"fr": 4}, "left_out": {}}

    admin = token_for("admin@example.org", admin=True)
    client.patch(f"/api/v1/cases/{case.id}", json={"translations": translated("fr")}, headers=bearer(admin))
    audience = client.get(f"/api/v1/cases/{case.id}/audience?office=FR", headers=bearer(staff)).json
    assert audience == {"total": 5, "languages": {"en": 1, "fr": 4}, "fallback": {}, "left_out": {}}


def test_a_translation_with_a_gap_is_not_used_and_the_api_says_what_it_lacks(app, client, relay, run_jobs):
    france = make_office(**FRANCE)
    make_supporters(france, 1, language="fr")
    admin = token_for("admin@example.org", admin=True)
    partial = {"fr": {"title": "Cessez les détentions", "summary": "Eduardo Torres est détenu."}}
    case = client.post("/api/v1/cases", json=case_data(translations=partial), headers=bearer(admin)).json
    assert case["languages"] == ["en"]
    assert case["missing"] == {"fr": ["pronoun", "target.title", "target.salutation", "model_letter"]}

    staff = token_for("staff@fr.example.org", office="FR")
    client.post(f"/api/v1/cases/{case['id']}/launch", json={"office": "FR"}, headers=bearer(staff))
    run_jobs()
    [email] = relay.messages()
    text = email.get_body(("plain",)).get_content()
    # Wholly English: not the French title over an English summary, not "Bonjour" over English words.
    assert email["Subject"] == f"Urgent Action: {case['title']}"
    assert "Cessez" not in text and "Bonjour" not in text and "Hello" in text


def test_translations_are_corrected_field_by_field_and_removed_with_null(app, client):
    admin = token_for("admin@example.org", admin=True)
    case = client.post("/api/v1/cases", json=case_data(translations=translated("es")), headers=bearer(admin)).json
    url = f"/api/v1/cases/{case['id']}"
    assert case["languages"] == ["en", "es"]
    fixed = client.patch(
        url, json={"translations": {"es": {"target": {"salutation": "Excelentísimo Señor"}}}}, headers=bearer(admin)
    ).json
    assert fixed["translations"]["es"]["target"] == {
        "title": TRANSLATED["es"]["target"]["title"],
        "salutation": "Excelentísimo Señor",
    }
    assert fixed["translations"]["es"]["title"] == TRANSLATED["es"]["title"]
    emptied = client.patch(url, json={"translations": {"es": {"summary": "  "}}}, headers=bearer(admin)).json
    assert emptied["languages"] == ["en"] and emptied["missing"] == {"es": ["summary"]}
    removed = client.patch(url, json={"translations": {"es": None}}, headers=bearer(admin)).json
    assert removed["translations"] == {} and removed["missing"] == {}
    own = client.patch(url, json={"translations": {"en": {"title": "x"}}}, headers=bearer(admin))
    assert own.status_code == 422 and own.json["details"][0]["field"] == "translations.en"


def test_people_are_a_list_of_names_and_one_string_is_one_name(app, client):
    admin = token_for("admin@example.org", admin=True)
    several = client.post(
        "/api/v1/cases", json=case_data(people=["Eduardo Torres", "Rocío San Miguel", " "]), headers=bearer(admin)
    )
    assert several.status_code == 201 and several.json["people"] == ["Eduardo Torres", "Rocío San Miguel"]
    one = client.post("/api/v1/cases", json=case_data(people="Sharifeh Mohammadi"), headers=bearer(admin)).json
    assert one["people"] == ["Sharifeh Mohammadi"]
    edited = client.patch(f"/api/v1/cases/{one['id']}", json={"people": None}, headers=bearer(admin)).json
    assert edited["people"] == []
    assert client.post("/api/v1/cases", json=case_data(people=[1, 2]), headers=bearer(admin)).status_code == 422


def test_an_update_in_two_languages_reaches_each_reader_in_theirs(app, client, relay, run_jobs):
    france = make_office(**FRANCE)
    make_supporters(france, 1, language="fr")
    make_supporters(france, 1, email="en@example.net", language="en")
    case = make_case(translations=translated("fr"))
    admin = token_for("admin@example.org", admin=True)
    staff = token_for("staff@fr.example.org", office="FR")
    client.post(f"/api/v1/cases/{case.id}/launch", json={"office": "FR"}, headers=bearer(staff))
    run_jobs()
    relay.received.clear()
    made = client.post(
        f"/api/v1/cases/{case.id}/updates",
        headers=bearer(admin),
        json={
            "kind": "update",
            "body": "Eduardo Torres was allowed a visit.",
            "translations": {"fr": {"body": "Eduardo Torres a pu recevoir une visite."}},
        },
    )
    assert made.status_code == 201
    run_jobs()
    by_address = {m["To"]: m.get_body(("plain",)).get_content() for m in relay.messages()}
    assert "Eduardo Torres a pu recevoir une visite." in by_address["person0@fr.example.net"]
    assert "allowed a visit" not in by_address["person0@fr.example.net"]
    assert "Eduardo Torres was allowed a visit." in by_address["en@example.net"]
    untranslated_own = client.post(
        f"/api/v1/cases/{case.id}/updates",
        headers=bearer(admin),
        json={"kind": "update", "body": "x", "translations": {"en": {"body": "y"}}},
    )
    assert untranslated_own.status_code == 422


def test_dates_follow_the_offices_country_and_language(app, relay, run_jobs):
    from mobilise.sequences.dispatch import start_drive

    deadline = date.today() + timedelta(days=40)
    gb, france = make_office(), make_office(**FRANCE)
    make_supporters(gb, 1)
    make_supporters(france, 1, language="fr")
    case = make_case(deadline=deadline.isoformat(), translations=translated("fr"))
    start_drive(case, gb, {"office": "GB"})
    start_drive(case, france, {"office": "FR"})
    run_jobs()
    texts = {m["To"]: m.get_body(("plain",)).get_content() for m in relay.messages()}
    english_months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    french_months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ]
    assert f"{deadline.day} {english_months[deadline.month - 1]} {deadline.year}" in texts["person0@gb.example.net"]
    assert f"{deadline.day} {french_months[deadline.month - 1]} {deadline.year}" in texts["person0@fr.example.net"]
    assert not re.search(
        r"(January|February|March|April|May|June|July|August|September|October|November|December) \d{1,2}, \d{4}",
        texts["person0@gb.example.net"],
    )  # never the US order
    assert db.session.get(Case, case.id).language == "en"


def test_french_writes_the_first_of_the_month_as_an_ordinal(app):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context():
        with force_locale("fr_FR"):
            first, eleventh = (
                render_template_string('{{ d | dateformat("long") }}', d=date(2027, 3, day)) for day in (1, 11)
            )
        with force_locale("en_GB"):
            english = render_template_string('{{ d | dateformat("long") }}', d=date(2027, 3, 1))
    assert (first, eleventh, english) == ("1er mars 2027", "11 mars 2027", "1 March 2027")


def test_a_case_is_written_in_a_language_we_write_in_and_keeps_it_apart_from_its_translations(app, client):
    admin = token_for("admin@example.org", admin=True)
    dutch = client.post("/api/v1/cases", json=case_data(language="nl"), headers=bearer(admin))
    assert dutch.status_code == 422 and dutch.json["details"][0]["field"] == "language"
    case = client.post("/api/v1/cases", json=case_data(translations=translated("fr")), headers=bearer(admin)).json
    # Renamed French, its English text would be read as French beside the French translation.
    relabelled = client.patch(f"/api/v1/cases/{case['id']}", json={"language": "fr"}, headers=bearer(admin))
    assert relabelled.status_code == 422 and relabelled.json["details"][0]["field"] == "language"
    assert client.get(f"/api/v1/cases/{case['id']}", headers=bearer(admin)).json["language"] == "en"


def test_a_letter_to_a_target_who_reads_a_language_we_do_not_write_is_sent_in_it(app):
    from mobilise.cases.letter import letters

    russian = {
        "title": "Освободите правозащитников",
        "summary": "Эдуардо Торрес задержан.",
        "pronoun": "он",
        "target": {"title": "Президент", "salutation": "Уважаемый господин Президент!"},
        "model_letter": "Мы призываем немедленно освободить Эдуардо Торреса.",
    }
    case = make_case(target_language="ru", translations={"ru": russian})
    with app.test_request_context():
        to_send, own = letters(case, "en")
    assert to_send.text == "Уважаемый господин Президент!\n\nМы призываем немедленно освободить Эдуардо Торреса."
    assert own.text.startswith("Mr Nicolás Maduro,") and own.text.endswith("Yours sincerely,")


def test_the_case_page_an_email_links_is_in_the_emails_language(app, client, relay, run_jobs):
    from mobilise.sequences.dispatch import start_drive

    office = make_office()
    make_supporters(office, 1, language="es")
    case = make_case(translations=translated("es"))
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    html = relay.messages()[0].get_body(("html",)).get_content()
    click = re.search(r'href="http://mobilise\.test(/c/[^"]+)"', html).group(1)
    landing = client.get(click).headers["Location"].removeprefix("http://mobilise.test")
    assert landing.endswith("?office=GB&lang=es")
    page = client.get(landing).get_data(as_text=True)
    assert '<html lang="es">' in page and TRANSLATED["es"]["title"] in page
