"""The public sign-up against a stranger: someone else's address asked for again and again from many networks,
an existing supporter rewritten by a request, words smuggled into the office's email, fields no form would send."""

from datetime import timedelta

import pytest

from mobilise.extensions import db
from mobilise.models import ConsentChange, Supporter

from .builders import make_office, make_supporters
from .test_signup import confirm_link, person

SPAIN = {
    "code": "ES",
    "name": "Amnistía España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "ua@es.example.org",
}
VICTIM = "victim@example.org"


def from_network(client, n: int, data: dict, code: str = "GB"):
    """A sign-up from the n-th of many networks, as a botnet or a patient stranger sends them."""
    return client.post(f"/subscribe/{code}", data=data, environ_base={"REMOTE_ADDR": f"203.0.{n}.7"})


def an_hour_passes():
    db.session.execute(db.update(ConsentChange).values(at=ConsentChange.at - timedelta(minutes=61)))
    db.session.commit()


def test_an_address_gets_one_confirmation_an_hour_from_any_number_of_networks_and_offices(app, client, relay, run_jobs):
    make_office()
    make_office(**SPAIN)
    answers = [from_network(client, n, {"email": VICTIM}, code) for n in range(8) for code in ("GB", "ES")]
    run_jobs(tick=True)
    assert relay.recipients() == [VICTIM]
    assert {a.status_code for a in answers} == {202}
    assert len({a.get_data(as_text=True) for a in answers[1::2]}) == 1  # the same page, sent or not

    an_hour_passes()
    assert from_network(client, 99, {"email": VICTIM}).status_code == 202
    run_jobs(tick=True)
    assert relay.recipients() == [VICTIM, VICTIM]


def test_the_first_link_still_confirms_when_later_requests_were_dropped(app, client, relay, run_jobs):
    make_office()
    from_network(client, 1, {"email": VICTIM})
    run_jobs()
    _, link = confirm_link(relay, VICTIM)
    from_network(client, 2, {"email": VICTIM})  # within the hour: no new request, so the first link is not made void
    assert "You are subscribed" in client.post(link).get_data(as_text=True)
    assert person(VICTIM).status == "subscribed"


def test_the_page_is_the_same_for_a_member_a_stranger_and_an_address_asked_lately(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 1, email="member@example.org")
    from_network(client, 1, {"email": "lately@example.org"})
    pages = [
        from_network(client, 2, {"email": address})
        for address in ("member@example.org", "new@example.org", "lately@example.org")
    ]
    assert [p.status_code for p in pages] == [202, 202, 202]
    assert len({p.get_data(as_text=True) for p in pages}) == 1


def test_a_request_changes_nothing_about_an_existing_supporter_until_the_link_is_followed(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 1, email="ana@example.org", first_name="Ana", last_name="Ruiz", language="en")
    ana = person("ana@example.org")
    ana.status = "unsubscribed"
    db.session.commit()

    asked = from_network(
        client, 1, {"email": "ana@example.org", "first_name": "Mallory", "last_name": "X", "language": "fr"}
    )
    assert asked.status_code == 202
    db.session.expire_all()
    ana = person("ana@example.org")
    assert (ana.first_name, ana.last_name, ana.language, ana.status) == ("Ana", "Ruiz", "en", "unsubscribed")

    run_jobs()
    message, link = confirm_link(relay, "ana@example.org")
    assert message["Subject"].startswith("Confirmez")  # the email is in the language the form asked for
    client.get(link)  # opening the page (or a scanner following the link) changes nothing either
    db.session.expire_all()
    assert (person("ana@example.org").first_name, person("ana@example.org").status) == ("Ana", "unsubscribed")

    client.post(link)  # she confirms what she asked for
    db.session.expire_all()
    ana = person("ana@example.org")
    assert (ana.first_name, ana.last_name, ana.language, ana.status) == ("Mallory", "X", "fr", "subscribed")


def test_a_new_address_is_kept_without_the_name_typed_until_confirmed(app, client, relay, run_jobs):
    make_office()
    from_network(client, 1, {"email": VICTIM, "first_name": "Someone", "language": "es"})
    pending = person(VICTIM)
    assert (pending.status, pending.first_name, pending.language) == ("pending", "", None)


PHISHING = "your account is suspended, verify at http://evil.example/login"


def test_the_confirmation_email_carries_nothing_the_stranger_typed_but_the_address(app, client, relay, run_jobs):
    make_office()
    from_network(
        client, 1, {"email": VICTIM, "first_name": PHISHING, "last_name": "<a href='http://evil.example'>here</a>"}
    )
    run_jobs()
    message, _ = confirm_link(relay, VICTIM)
    whole = message.as_string()
    text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    for part in (whole, text, html):
        assert "evil.example" not in part and "suspended" not in part
    assert text.startswith("Hello,")


# Fields no sign-up form sends: each answers 422 on the form again, in the visitor's language, and keeps nothing.
HOSTILE = [
    ({"email": VICTIM, "first_name": "a" * 201}, "Usa como máximo 200 caracteres."),
    ({"email": VICTIM, "last_name": "b" * 10_000}, "Usa como máximo 200 caracteres."),
    ({"email": "a" * 400 + "@example.org"}, "Escribe una dirección de correo electrónico"),
    ({"email": VICTIM + "\r\nBcc: other@example.org"}, "Escribe una dirección de correo electrónico"),
    ({"email": "vict\u202eim@example.org"}, "Escribe una dirección de correo electrónico"),
    ({"email": VICTIM, "first_name": "\x1b[2J\x1b[31mAna"}, "Este campo contiene caracteres que no se pueden usar."),
    ({"email": VICTIM, "first_name": "Ana\u202egnp.exe"}, "Este campo contiene caracteres que no se pueden usar."),
    ({"email": VICTIM, "last_name": "Ruiz\u200b"}, "Este campo contiene caracteres que no se pueden usar."),
    ({"email": VICTIM, "language": "<script>"}, "No se ha podido usar el formulario."),
    ({"email": VICTIM, "language": "english-please"}, "No se ha podido usar el formulario."),
]


@pytest.mark.parametrize("fields, wording", HOSTILE, ids=range(len(HOSTILE)))
def test_a_field_no_form_sends_is_a_clean_422_in_the_visitors_language(app, client, relay, run_jobs, fields, wording):
    make_office()
    answer = client.post("/subscribe/GB", data=fields, headers={"Accept-Language": "es"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert wording in html and 'lang="es"' in html
    run_jobs()
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0 and relay.messages() == []


@pytest.mark.parametrize("field", ["email", "first_name", "last_name", "language"])
def test_a_nul_character_in_any_field_is_a_4xx_and_keeps_nothing(app, client, field):
    """Refused by the app-wide guard where it runs, or by the form's own check: never a server error."""
    make_office()
    answer = client.post("/subscribe/GB", data={"email": VICTIM, field: "a\x00b"})
    assert answer.status_code == 422
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0


def test_a_hostile_confirmation_link_is_a_404(app, client):
    make_office()
    for token in ("%00", "a" * 5000, "..%2F..%2Fetc%2Fpasswd", "%E2%80%AE", "x.y.z"):
        assert client.get(f"/confirm/{token}").status_code == 404, token
        assert client.post(f"/confirm/{token}").status_code == 404, token
