"""Public sign-up with double opt-in, through the real SMTP server."""

import re

from mobilise.extensions import db
from mobilise.models import Supporter
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for


def confirm_link(relay, address):
    message = next(m for m in relay.messages() if m["To"] == address)
    return message, re.search(
        r"http://mobilise\.test(/confirm/[A-Za-z0-9._-]+)", message.get_body(("plain",)).get_content()
    ).group(1)


def person(email):
    return db.session.scalar(db.select(Supporter).where(Supporter.email == email))


def test_a_person_signs_up_confirms_from_the_email_and_gets_the_next_action(app, client, relay, run_jobs):
    office = make_office()
    answer = client.post(
        "/subscribe/GB",
        data={"email": " Rocio@Example.org ", "first_name": "Rocío", "language": "es"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    assert answer.status_code == 202 and "Check your inbox" in answer.get_data(as_text=True)
    assert person("rocio@example.org").status == "pending"

    start_drive(make_case(), office, {"office": "GB"})  # a launch before confirming does not reach her
    run_jobs()
    message, link = confirm_link(relay, "rocio@example.org")
    assert relay.recipients() == ["rocio@example.org"]  # only the confirmation
    assert message["Subject"] == "Confirma tu suscripción a Amnesty UK"
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Hola,") and "Rocío" not in text  # a stranger's words are never sent in the office's name

    page = client.get(link)  # what a mail scanner does: it confirms nothing
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    assert person("rocio@example.org").status == "pending"
    done = client.post(link, environ_base={"REMOTE_ADDR": "198.51.100.99"})
    assert "You are subscribed" in done.get_data(as_text=True) or "Ya estás suscrito/a" in done.get_data(as_text=True)
    confirmed = person("rocio@example.org")
    assert (confirmed.status, confirmed.first_name, confirmed.language) == ("subscribed", "Rocío", "es")  # now hers
    assert client.post(link).status_code == 200  # a second tap: still fine, nothing new

    admin = token_for("admin@example.org", admin=True)
    held = client.post(
        "/api/v1/offices/GB/supporters/export", json={"email": "rocio@example.org"}, headers=bearer(admin)
    ).json
    steps = [(h["change"], h["source"], h["network"]) for h in held["consent_history"]]
    assert steps == [
        ("requested", "sign-up form", "198.51.100.0/24"),
        ("confirmed", "confirmation link in the email", "198.51.100.0/24"),
    ]

    relay.received.clear()
    start_drive(make_case(reference="UA 54/25", title="Release Rocío's neighbour"), office, {"office": "GB"})
    run_jobs()
    assert relay.recipients() == ["rocio@example.org"]


def test_a_bot_filling_the_honeypot_is_answered_like_a_person_and_ignored(app, client, relay, run_jobs):
    make_office()
    answer = client.post("/subscribe/GB", data={"email": "bot@example.org", "website": "http://spam.example"})
    assert answer.status_code == 202
    run_jobs()
    assert person("bot@example.org") is None and relay.messages() == []


def test_sign_up_errors_are_shown_next_to_the_field_and_nothing_is_kept(app, client):
    make_office()
    answer = client.post("/subscribe/GB", data={"email": "not an address", "first_name": "Ana"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'aria-invalid="true" aria-describedby="signup-email-error"' in html
    assert 'value="Ana"' in html  # what was typed is kept
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0
    assert client.post("/subscribe/XX", data={"email": "a@example.org"}).status_code == 404


def test_sign_ups_are_throttled(app, client):
    make_office()
    codes = [client.post("/subscribe/GB", data={"email": f"p{n}@example.org"}).status_code for n in range(7)]
    assert codes[:5] == [202] * 5 and codes[5:] == [429, 429]


def test_the_page_never_tells_who_is_on_the_list(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 1, email="member@example.org")
    known = client.post("/subscribe/GB", data={"email": "member@example.org"})
    unknown = client.post("/subscribe/GB", data={"email": "new@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    run_jobs()
    assert relay.recipients() == ["new@example.org"]  # a member is not mailed again


def test_an_old_link_is_void_after_unsubscribing_and_a_tampered_one_is_404(app, client, relay, run_jobs):
    make_office()
    client.post("/subscribe/GB", data={"email": "ana@example.org"})
    run_jobs()
    _, link = confirm_link(relay, "ana@example.org")
    assert client.post(link[:-3] + "xyz").status_code == 404
    assert client.get("/confirm/not-a-token").status_code == 404
    supporter = person("ana@example.org")
    from mobilise.supporters.consent import record_change

    record_change(supporter, "withdrawn", "unsubscribe link in an email")
    db.session.commit()
    page = client.post(link)
    assert "This link has expired" in page.get_data(as_text=True)
    assert person("ana@example.org").status == "unsubscribed"


def test_the_case_page_carries_the_sign_up_form(app, client):
    make_office()
    case = make_case()
    html = client.get(f"/cases/{case.slug}?office=GB").get_data(as_text=True)
    assert 'action="/subscribe/GB"' in html and 'name="website"' in html


def test_the_confirmation_goes_through_the_offices_relay_and_waits_out_an_outage(app, client, relay, run_jobs):
    """The office's own relay (MAIL_RELAYS), down at first: nothing is lost, and the tick sends it once it is back."""
    from .conftest import Relay

    spanish = Relay()  # not listening yet
    app.config["MAIL_RELAYS"] = [{"name": "es", "server": "127.0.0.1", "port": spanish.port, "offices": ["ES"]}]
    app.config["SEND_RELAY_BACKOFF"] = (0,)
    app.extensions.pop("mobilise.relays", None)
    make_office(code="ES", name="Amnistía España", language="es", timezone="Europe/Madrid", sender="ua@es.example.org")
    assert client.post("/subscribe/ES", data={"email": "lucia@example.org"}).status_code == 202
    run_jobs()
    assert relay.messages() == []  # never through the default relay

    spanish.controller.start()
    try:
        run_jobs(tick=True)
        assert spanish.recipients() == ["lucia@example.org"]
        run_jobs(tick=True)  # done: not sent again
        assert spanish.recipients() == ["lucia@example.org"]
    finally:
        spanish.controller.stop()
    assert relay.messages() == []
