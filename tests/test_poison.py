"""No poison: whatever a case, an office or a supporter holds appears as its text, and one bad message fails alone.

The send path is driven here through the connection itself (`relay_for(code).connect()`), not the batch."""

from email import message_from_bytes, policy
from html import unescape

import pytest

from mobilise.extensions import db
from mobilise.offices.service import list_offices
from mobilise.sending.composer import Composer
from mobilise.sending.message import Unsendable
from mobilise.sending.relays import relay_for
from mobilise.sequences.service import launch

from .builders import bearer, make_case, make_office, token_for
from .conftest import Relay

TRICKY = "@@nope@@ {{ 7*7 }} %(x)s"


class CountingRelay(Relay):
    """The test relay, counting its SMTP sessions: one bad message must not cost the session."""

    def __init__(self, **options):
        super().__init__(**options)
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        return await super().handle_EHLO(server, session, envelope, hostname, responses)


@pytest.fixture(params=["pipelined", "plain"])
def own_relay(request, app):
    """Starts a relay of this test's own, serving office GB: `own_relay(smtputf8=…)`, pipelining or not."""
    started = []

    def start(smtputf8=True):
        server = CountingRelay(pipelining=request.param == "pipelined", smtputf8=smtputf8)
        server.controller.start()
        started.append(server)
        app.config["MAIL_RELAYS"] = [{"name": "own", "server": "127.0.0.1", "port": server.port, "offices": ["GB"]}]
        app.extensions.pop("mobilise.relays", None)
        return server

    yield start
    for server in started:
        server.controller.stop()


def composer(office=None, **case_overrides) -> Composer:
    office = office or make_office()
    drive = launch(make_case(**case_overrides), office, {"office": office.code})
    return Composer(next(m for m in drive.mailings if m.stage == "launch"))


def received(server) -> list:
    return [message_from_bytes(e.content, policy=policy.default) for e in server.received]


def parts(message) -> tuple[str, str]:
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))


def test_case_and_office_text_appears_as_written_in_the_email(app, own_relay):
    server = own_relay()
    office = make_office(name=f"Amnesty {TRICKY}", address=f"1 Road\n{TRICKY}")
    title, summary = f"Free them\x1b\r\nBcc: x@evil.example {TRICKY}", f"Held. {TRICKY} @@act@@ @@link:1@@"
    mailing = composer(office, title=title, summary=summary)
    message = mailing.spliced(1, email="ana@example.net", first_name="Ana", language=None)
    with relay_for("GB").connect() as connection:
        connection.send(message)
    [email] = received(server)
    text, html = parts(email)
    assert email["Subject"] == f"Urgent Action: Free them Bcc: x@evil.example {TRICKY}" and "Bcc" not in email
    assert summary in text and summary in html
    assert f"Amnesty {TRICKY}" in text and f"Amnesty {TRICKY}" in html
    assert f"1 Road\n{TRICKY}" in text


def test_the_preview_shows_case_text_as_written(app, client):
    make_office()
    case = make_case(title=f"Free them {TRICKY}", summary=f"Held. {TRICKY}")
    staff = token_for("staff@uk.example.org", office="GB")
    response = client.get(f"/api/v1/cases/{case.id}/preview", headers=bearer(staff))
    assert response.status_code == 200
    assert f"Held. {TRICKY}" in response.json["text"] and f"Held. {TRICKY}" in response.json["html"]
    assert response.json["subject"] == f"Urgent Action: Free them {TRICKY}"
    named = client.get(f"/api/v1/cases/{case.id}/preview?first_name=@@act@@", headers=bearer(staff))
    assert named.status_code == 200 and "Hello @@act@@," in named.json["text"]


@pytest.mark.parametrize("first_name", ["@@act@@ {{ 7*7 }}", "@@unsubscribe@@ %(x)s", "Zoë <b>&amp;</b>"])
def test_a_first_name_appears_as_its_text(app, own_relay, first_name):
    server = own_relay()
    mailing = composer()
    with relay_for("GB").connect() as connection:
        connection.send(mailing.spliced(1, email="ana@example.net", first_name=first_name, language=None))
    text, html = parts(received(server)[0])
    assert f"Hello {first_name}," in text and f"Hello {first_name}," in unescape(html)
    written = mailing.message(1, email="ana@example.net", first_name=first_name, language=None)
    assert f"Hello {first_name}," in written.body


def test_a_first_name_with_line_breaks_injects_no_header(app, own_relay):
    server = own_relay()
    mailing = composer()
    name = "Ana\r\nBcc: x@evil.example\r\n\r\nInjected body"
    with relay_for("GB").connect() as connection:
        connection.send(mailing.spliced(1, email="ana@example.net", first_name=name, language=None))
    [envelope] = server.received
    assert envelope.rcpt_tos == ["ana@example.net"]
    head = envelope.content.split(b"\r\n\r\n", 1)[0]
    assert b"evil" not in head and b"Injected" not in head
    email = message_from_bytes(envelope.content, policy=policy.default)
    assert "Bcc" not in email and email.defects == []
    assert sorted(email.keys()) == sorted(
        [
            "Subject",
            "From",
            "To",
            "Reply-To",
            "Date",
            "Message-ID",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "MIME-Version",
            "Content-Type",
        ]
    )


def test_a_non_ascii_address_goes_out_with_smtputf8(app, own_relay):
    server = own_relay(smtputf8=True)
    mailing = composer()
    with relay_for("GB").connect() as connection:
        for email in ("josé@example.org", "ana@example.net", "李@例子.example"):
            connection.send(mailing.spliced(1, email=email, first_name="José", language=None))
    assert [e.rcpt_tos for e in server.received] == [["josé@example.org"], ["ana@example.net"], ["李@例子.example"]]
    assert [e.smtp_utf8 for e in server.received] == [True, False, True]
    assert server.sessions == 1
    first = message_from_bytes(server.received[0].content, policy=policy.default)
    assert first["To"] == "josé@example.org" and "Hello José," in parts(first)[0]
    assert b"To: jos\xc3\xa9@example.org\r\n" in server.received[0].content  # RFC 6532: UTF-8 in the header


def test_without_smtputf8_that_message_alone_is_unsendable(app, own_relay):
    server = own_relay(smtputf8=False)
    mailing = composer()
    bad = mailing.spliced(1, email="josé@example.org", first_name="José", language=None)
    good = [mailing.spliced(n, email=f"p{n}@example.net", first_name="Ana", language=None) for n in (2, 3, 4)]
    with relay_for("GB").connect() as connection:
        if server.pipelining:  # written ahead, so checked ahead; a plain session has nothing to do ahead
            with pytest.raises(Unsendable):
                connection.prepare(bad)
        connection.send(good[0], then=bad)  # the next message's envelope cannot be written ahead: it is not
        with pytest.raises(Unsendable) as error:
            connection.send(bad, then=good[1])
        assert "SMTPUTF8" in str(error.value) and "jos" not in str(error.value)
        connection.send(good[1], then=good[2])
        connection.send(good[2])
    assert [e.rcpt_tos for e in server.received] == [["p2@example.net"], ["p3@example.net"], ["p4@example.net"]]
    assert server.sessions == 1


def test_a_message_that_cannot_be_encoded_is_unsendable_and_the_session_goes_on(app, own_relay):
    server = own_relay()
    mailing = composer()
    broken = mailing.spliced(1, email="ana@example.net", first_name="Ana \udc80", language=None)  # a lone surrogate
    with pytest.raises(Unsendable):
        broken.as_bytes()
    with relay_for("GB").connect() as connection:
        with pytest.raises(Unsendable):
            connection.send(broken)
        connection.send(mailing.spliced(2, email="ben@example.net", first_name="Ben", language=None))
    assert [e.rcpt_tos for e in server.received] == [["ben@example.net"]]


OFFICE = {
    "code": "fr",
    "name": "Amnesty France",
    "language": "fr",
    "timezone": "Europe/Paris",
    "sender": "actions@fr.example.org",
    "sender_name": "Amnesty France",
    "reply_to": "contact@fr.example.org",
}


@pytest.mark.parametrize(
    "field, value",
    [
        ("sender_name", "Amnesty\r\nBcc: x@evil.example"),
        ("sender_name", "Amnesty\x00France"),
        ("name", "Amnesty\nFrance"),
        ("sender", "not-an-address"),
        ("sender", "actions@fr.example.org\r\nBcc: x@evil.example"),
        ("reply_to", "contact@"),
        ("sender", "acción@fr.example.org"),
        ("reply_to", "Contact <contact@fr.example.org>"),
    ],
)
def test_an_office_that_could_not_send_is_refused_naming_the_field(app, client, field, value):
    admin = token_for("admin@example.org", admin=True)
    response = client.post("/api/v1/offices", json={**OFFICE, field: value}, headers=bearer(admin))
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json["details"]] == [field]


def test_the_cli_refuses_an_office_that_could_not_send(app, runner):
    result = runner.invoke(
        args=[
            "office",
            "create",
            "fr",
            "--name",
            "Amnesty France",
            "--language",
            "fr",
            "--timezone",
            "Europe/Paris",
            "--sender",
            "actions@fr.example.org",
            "--sender-name",
            "Amnesty\r\nBcc: x@evil.example",
        ]
    )
    assert result.exit_code != 0 and "sender_name" in result.output
    assert list_offices() == []


def test_an_office_at_an_international_domain_sends_with_a_plain_list_unsubscribe(app, own_relay):
    server = own_relay(smtputf8=False)
    office = make_office(sender="ua@bücher.example", reply_to="help@bücher.example")
    assert (office.sender_email, office.reply_to) == ("ua@xn--bcher-kva.example", "help@xn--bcher-kva.example")
    with relay_for("GB").connect() as connection:
        connection.send(composer(office).spliced(1, email="ana@müller.example", first_name="Ana", language=None))
    [email] = received(server)
    assert server.received[0].rcpt_tos == ["ana@xn--mller-kva.example"]  # a domain alone needs no SMTPUTF8
    assert email["From"] == "Amnesty UK <ua@xn--bcher-kva.example>" and email["To"] == "ana@xn--mller-kva.example"
    assert "<mailto:help@xn--bcher-kva.example?subject=unsubscribe%20" in email["List-Unsubscribe"]


def test_an_office_made_before_these_checks_fails_each_message_alone(app, own_relay):
    server = own_relay(smtputf8=False)
    office = make_office()
    office.sender_name, office.sender_email = "Amnesty\r\nBcc: x@evil.example", "ua@bücher.example"
    db.session.commit()
    message = composer(office).spliced(1, email="ana@example.net", first_name="Ana", language=None)
    with relay_for("GB").connect() as connection, pytest.raises(Unsendable, match="line break"):
        connection.send(message)
    assert server.received == []


def test_a_test_email_that_cannot_go_says_why(app, client, relay):
    make_office()
    case = make_case()
    staff = token_for("josé@uk.example.org", office="GB")  # the session's relay offers no SMTPUTF8
    response = client.post(f"/api/v1/cases/{case.id}/test-email", json={"stage": "launch"}, headers=bearer(staff))
    assert response.status_code == 422 and "SMTPUTF8" in response.json["error"]
    assert relay.received == []
