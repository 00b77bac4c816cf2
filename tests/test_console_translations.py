"""Translating a case in the console, and the audience by language before a launch (issue #16)."""

import html
import re

import pytest

from mobilise.extensions import db
from mobilise.models import Case
from mobilise.sequences.service import reading_audience
from mobilise.supporters.service import upsert_supporters

from .builders import TRANSLATED, make_case, make_office, make_supporters, token_for, translated
from .test_console import csrf_from, hidden_fields, post_form, sign_in

FRANCE = {
    "code": "FR",
    "name": "Amnesty France",
    "language": "fr",
    "timezone": "Europe/Paris",
    "sender": "ua@fr.example.org",
}
MISSING_MARK = "<strong>Missing</strong> — this translation is not used until it is filled."
# The builders' case has six texts (no additional information): a translation lacking them all lacks six.
ORIGINAL_TEXTS = 6


def form_of(language: str = "fr", **overrides) -> dict:
    """The translation form's fields filled with the builders' translation, as a browser posts them."""
    texts = TRANSLATED[language]
    fields = {
        "title": texts["title"],
        "summary": texts["summary"],
        "pronoun": texts["pronoun"],
        "target_title": texts["target"]["title"],
        "target_salutation": texts["target"]["salutation"],
        "model_letter": texts["model_letter"],
        "additional_information": "",
    }
    return fields | overrides


def text_of(response) -> str:
    """The page's words, tags and entities gone, spaces collapsed: what a reader reads."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


def case_now(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


@pytest.fixture
def france(app):
    """A French office: 3 supporters with no language of their own (they read French), 2 English, 1 Spanish."""
    gb, fr = make_office(), make_office(**FRANCE)
    make_supporters(fr, 3)
    upsert_supporters(
        fr,
        [
            {"email": "english0@fr.example.net", "language": "en", "tags": ["pressed"]},
            {"email": "english1@fr.example.net", "language": "en"},
            {"email": "spanish0@fr.example.net", "language": "es"},
        ],
    )
    token_for("admin@example.org", admin=True)
    token_for("staff@fr.example.org", office="FR")
    return gb, fr


def test_an_admin_adds_a_french_translation_and_the_case_then_reads_whole_in_french(client, france):
    case = make_case()
    sign_in(client, "admin@example.org")
    page = client.get(f"/console/cases/{case.id}").get_data(as_text=True)
    offices_first = page.index('<optgroup label="The offices\' languages"><option value="fr">French</option>')
    assert offices_first < page.index('<optgroup label="Every other language">') and ">German</option>" in page

    chosen = client.get(f"/console/cases/{case.id}/translations?language=fr")
    assert chosen.status_code == 302 and chosen.headers["Location"] == f"/console/cases/{case.id}/translations/fr"
    empty = client.get(chosen.headers["Location"])
    assert f"Status: Incomplete: {ORIGINAL_TEXTS} fields missing, readers get English instead." in text_of(empty)
    assert empty.get_data(as_text=True).count(MISSING_MARK) == ORIGINAL_TEXTS
    assert "We call for the immediate release of Eduardo Torres." in empty.get_data(as_text=True)  # the original beside

    saved = post_form(client, f"/console/cases/{case.id}/translations/fr", form_of())
    assert saved.status_code == 302
    assert case_now(case.id).languages() == {"en", "fr"}
    assert case_now(case.id).translation("fr").target_salutation == "Monsieur le Président"
    after = client.get(saved.headers["Location"])
    assert "Status: Complete: used in emails and pages." in text_of(after) and MISSING_MARK not in after.get_data(
        as_text=True
    )
    assert "Complete: used in emails and pages." in text_of(client.get(f"/console/cases/{case.id}"))


def test_the_fields_still_missing_are_marked_and_the_status_says_incomplete(client, france):
    case = make_case()
    sign_in(client, "admin@example.org")
    url = f"/console/cases/{case.id}/translations/fr"
    post_form(client, url, form_of(pronoun="", target_title="", model_letter=" ", target_salutation=""))
    assert "fr" not in case_now(case.id).languages()
    page = client.get(url)
    words = text_of(page)
    assert "Status: Incomplete: 4 fields missing, readers get English instead." in words
    assert (
        "Still missing: Pronoun of the person at risk, The target's title, Salutation to the target, Model letter."
        in words
    )
    assert page.get_data(as_text=True).count(MISSING_MARK) == 4
    listed = text_of(client.get(f"/console/cases/{case.id}"))
    assert "incomplete Incomplete: 4 fields missing, readers get English instead." in listed


def test_a_wrong_field_shows_its_error_keeps_what_was_typed_and_saves_nothing(client, france):
    case = make_case()
    sign_in(client, "admin@example.org")
    url = f"/console/cases/{case.id}/translations/fr"
    response = post_form(client, url, form_of(title="T" * 501, summary="Ce que j'ai tapé"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="title-error">String should have at most 500 characters<', page)
    assert 'aria-invalid="true"' in page and "Ce que j&#39;ai tapé" in page and "T" * 501 in page
    assert case_now(case.id).translation("fr") is None


def test_office_staff_read_a_translation_beside_the_original_but_only_admins_change_it(client, france):
    case = make_case(translations=translated("fr"))
    sign_in(client, "staff@fr.example.org")
    url = f"/console/cases/{case.id}/translations/fr"
    page = client.get(url)
    assert page.status_code == 200 and "Monsieur le Président" in page.get_data(as_text=True)
    assert "<textarea" not in page.get_data(as_text=True) and "Save the French translation" not in page.get_data(
        as_text=True
    )
    assert client.post(url, data={**form_of(title="Autre"), "csrf_token": csrf_from(page)}).status_code == 403
    assert case_now(case.id).translation("fr").title == TRANSLATED["fr"]["title"]
    assert "Add a language" not in client.get(f"/console/cases/{case.id}").get_data(as_text=True)


def test_a_closed_case_says_in_words_that_its_texts_no_longer_change(client, france):
    from mobilise.sequences.lifecycle import apply_change

    case = make_case()
    apply_change(case, {"kind": "closed", "outcome": "no_further_action"})
    sign_in(client, "admin@example.org")
    url = f"/console/cases/{case.id}/translations/fr"
    page = client.get(url)
    assert "This case is closed: its texts can no longer be changed." in text_of(
        page
    ) and "<textarea" not in page.get_data(as_text=True)
    refused = client.post(url, data={**form_of(), "csrf_token": csrf_from(page)})
    assert refused.status_code == 409 and "Not saved: This case is closed" in text_of(refused)
    assert case_now(case.id).translation("fr") is None


def test_removing_a_translation_asks_first(client, france):
    case = make_case(translations=translated("fr", "es"))
    sign_in(client, "admin@example.org")
    remove = f"/console/cases/{case.id}/translations/fr/remove"
    page = client.get(f"/console/cases/{case.id}/translations/fr")
    confirm = client.post(remove, data={"csrf_token": csrf_from(page)})
    assert confirm.status_code == 200 and "Remove the French translation?" in text_of(confirm)
    assert case_now(case.id).translation("fr") is not None
    done = client.post(remove, data={**hidden_fields(confirm), "csrf_token": csrf_from(confirm)}, follow_redirects=True)
    assert "The French translation is removed" in text_of(done)
    assert case_now(case.id).languages() == {"en", "es"}


@pytest.mark.parametrize("path", ["en", "EN", "f", "french", "fr1"])
def test_a_language_that_is_not_another_code_has_no_page(client, france, path):
    case = make_case()
    sign_in(client, "admin@example.org")
    assert client.get(f"/console/cases/{case.id}/translations/{path}").status_code == 404


def test_the_launch_page_of_a_french_office_warns_before_a_translation_and_not_after(client, france):
    case = make_case()
    sign_in(client, "staff@fr.example.org")
    url = f"/console/cases/{case.id}/launch"
    before = text_of(client.get(url))
    assert "This case has no French translation: 3 supporters who read French will get it in English." in before
    assert "ask one to add the French translation" in before

    from mobilise.cases.service import edit_case

    edit_case(case_now(case.id), {"translations": translated("fr")})
    after = text_of(client.get(url))
    assert "French translation" not in after
    confirm = post_form(client, url, {"office": "FR"})
    assert "French translation" not in text_of(confirm)


def test_an_incomplete_translation_is_named_in_the_warning_with_the_fields_it_lacks(client, france):
    case = make_case(
        translations={"fr": {k: v for k, v in TRANSLATED["fr"].items() if k not in ("summary", "pronoun")}}
    )
    sign_in(client, "admin@example.org")
    warned = text_of(client.get(f"/console/cases/{case.id}/launch?office=FR"))
    assert (
        "The French translation of this case is incomplete (missing: Summary, Pronoun of the person at risk): "
        "3 supporters who read French will get it in English."
    ) in warned
    assert "Complete the French translation first" in warned


def test_the_warning_leads_to_the_translation_and_back_to_the_launch(client, france):
    case = make_case()
    sign_in(client, "admin@example.org")
    launch = client.get(f"/console/cases/{case.id}/launch?office=FR").get_data(as_text=True)
    link = html.unescape(re.search(r'href="([^"]+)">Add the French translation first', launch).group(1))
    assert link == f"/console/cases/{case.id}/translations/fr?then=launch&office=FR"
    saved = post_form(client, link, form_of())
    assert saved.status_code == 302 and saved.headers["Location"] == f"/console/cases/{case.id}/launch?office=FR"
    back = client.get(saved.headers["Location"])
    assert '<option selected value="FR">' in back.get_data(as_text=True) and "no French translation" not in text_of(
        back
    )


def rows_of(response, table: str) -> dict[str, int]:
    """A table of the launch page as {first column: the count column}; {} when the page has no such table."""
    found = re.search(rf'<table class="{table}".*?</table>', response.get_data(as_text=True), re.S)
    section = found.group(0) if found else ""
    return {
        name: int(n)
        for name, n in re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', section)
        if name != "In all"
    }


@pytest.mark.parametrize("filters", [{}, {"tags": "pressed"}, {"languages": "fr, es"}])
def test_the_counts_by_language_shown_before_a_launch_are_reading_audiences(client, france, filters):
    _, fr = france
    case = make_case(translations=translated("es"))
    sign_in(client, "staff@fr.example.org")
    confirm = post_form(client, f"/console/cases/{case.id}/launch", {"office": "FR", **filters})
    tags = [t for t in filters.get("tags", "").split(",") if t]
    languages = [c.strip() for c in filters.get("languages", "").split(",") if c.strip()]
    expected = reading_audience(case_now(case.id), fr, tags=tags, languages=languages)
    from mobilise.languages import name_of

    assert rows_of(confirm, "audience") == {name_of(code): n for code, n in expected["languages"].items()}
    assert rows_of(confirm, "fallback") == {name_of(code): n for code, n in expected["fallback"].items()}
    assert ("Everyone reads it in their own language." in text_of(confirm)) == (not expected["fallback"])
    if not filters:  # the French readers get English; the Spanish reader their own, the English theirs
        assert expected == {"total": 6, "languages": {"en": 5, "es": 1}, "fallback": {"fr": 3}, "left_out": {}}
    assert f"to <strong>{expected['total']}</strong> subscribed supporters" in confirm.get_data(as_text=True)


@pytest.mark.parametrize(
    "asked, says",
    [
        ("", "Choose a language to translate the case into."),
        ("en", "The case is written in English: choose another language."),
    ],
)
def test_adding_no_language_or_the_cases_own_says_so_on_the_case_page(client, france, asked, says):
    case = make_case()
    sign_in(client, "admin@example.org")
    back = client.get(f"/console/cases/{case.id}/translations", query_string={"language": asked}, follow_redirects=True)
    assert back.request.path == f"/console/cases/{case.id}" and says in text_of(back)
