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

FRANCE = {"code": "FR", "name": "Amnesty France", "language": "fr", "timezone": "Europe/Paris", "sender": "ua@fr.example.org"}
MISSING_MARK = "<strong>Missing</strong> — this translation is not used until it is filled."
# The builders' case has six texts (no additional information): a translation lacking them all lacks six.
ORIGINAL_TEXTS = 6


def form_of(language: str = "fr", **overrides) -> dict:
    """The translation form's fields filled with the builders' translation, as a browser posts them."""
    texts = TRANSLATED[language]
    fields = {"title": texts["title"], "summary": texts["summary"], "pronoun": texts["pronoun"],
              "target_title": texts["target"]["title"], "target_salutation": texts["target"]["salutation"],
              "model_letter": texts["model_letter"], "additional_information": ""}
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
    upsert_supporters(fr, [{"email": "english0@fr.example.net", "language": "en", "tags": ["pressed"]},
                           {"email": "english1@fr.example.net", "language": "en"},
                           {"email": "spanish0@fr.example.net", "language": "es"}])
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
    assert "Status: Complete: used in emails and pages." in text_of(after) and MISSING_MARK not in after.get_data(as_text=True)
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
    assert "Still missing: Pronoun of the person at risk, The target's title, Salutation to the target, Model letter." in words
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
    assert "<textarea" not in page.get_data(as_text=True) and "Save the French translation" not in page.get_data(as_text=True)
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
    assert "This case is closed: its texts can no longer be changed." in text_of(page) and "<textarea" not in page.get_data(as_text=True)
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
