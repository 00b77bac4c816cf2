"""The spliced email decodes to exactly what the one renderer wrote, whatever the recipient's values."""

from email import message_from_bytes
from email.policy import default

import pytest

from mobilise.sending.message import OutgoingEmail, SplicedEmail
from mobilise.sending.render import Rendered, personalise, placeholder
from mobilise.sending.wire import Skeleton

NAME, ACT, OPEN = placeholder("name_suffix"), placeholder("act"), placeholder("open")
RENDERED = Rendered(
    "es",
    f"Actúa ya{NAME}: Nadia Ortega",
    f"Hola{NAME},\n\nEscribe hoy: {ACT}\n" + "Una línea larga de texto, con = y ünïcödé. " * 6 + "\nFin  \n",
    f'<html lang="es"><p style="font-family:Arial">Hola{NAME},</p><a href="{ACT}">Actúa</a>'
    + "<p>"
    + "Texto largo, árabe محمد, ruso Мария, chino 李. " * 8
    + f'</p><img src="{OPEN}"></html>',
)
VALUES = [
    {
        "name_suffix": " Rocío",
        "act": "https://act.example.org/act/" + "A" * 140,
        "open": "https://act.example.org/o/x.gif",
    },
    {"name_suffix": ' <b>Ana "&" = Zoë</b>  ', "act": "https://act.example.org/act/a=b&c", "open": ""},
    {"name_suffix": "", "act": "x", "open": " trailing space "},
]


def spliced(values):
    return SplicedEmail(
        text=Skeleton(RENDERED.text, html=False),
        html=Skeleton(RENDERED.html, html=True),
        values=values,
        subject=personalise(RENDERED, values)[0],
        sender="Amnistía <ua@es.example.org>",
        recipient="ana@example.org",
        message_id="<delivery.1@es.example.org>",
        headers={"List-Unsubscribe": "<https://act.example.org/u/t>"},
    )


@pytest.mark.parametrize("values", VALUES)
def test_every_part_decodes_to_the_personalised_rendering(app, values):
    raw = spliced(values).as_bytes()
    message = message_from_bytes(raw, policy=default)
    subject, text, html = personalise(RENDERED, values)
    assert message["Subject"] == subject
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == html
    assert all(len(line) <= 76 for line in raw.split(b"\r\n")), "quoted-printable lines are at most 76 long"


def test_a_spliced_email_is_the_same_email_as_one_written_out(app):
    values = VALUES[1]
    subject, text, html = personalise(RENDERED, values)
    fields = dict(
        sender="Amnistía <ua@es.example.org>", recipient="ana@example.org", message_id="<delivery.1@es.example.org>"
    )
    written = message_from_bytes(
        OutgoingEmail(subject=subject, text=text, html=html, **fields).as_bytes(), policy=default
    )
    fast = message_from_bytes(spliced(values).as_bytes(), policy=default)
    for name in ("Subject", "From", "To", "Message-ID", "Content-Type"):
        assert str(fast[name]).split(";")[0] == str(written[name]).split(";")[0]
    for kind in ("plain", "html"):
        assert fast.get_body((kind,)).get_content() == written.get_body((kind,)).get_content()


def test_our_emails_have_exactly_the_fields_of_flask_mails_message(app):
    from flask_mail import Message

    ours = OutgoingEmail(
        subject="s",
        sender="a@example.org",
        recipient="b@example.net",
        text="t",
        html="h",
        message_id="<delivery.1@example.org>",
    )
    theirs = Message(subject="s", sender="a@example.org", recipients=["b@example.net"], body="t", html="h")
    assert set(vars(ours)) == set(vars(theirs))
    assert (ours.msgId, ours.send_to, ours.has_bad_headers()) == ("<delivery.1@example.org>", {"b@example.net"}, False)
