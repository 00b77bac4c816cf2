"""SMTP PIPELINING: the same answers as smtplib's own sendmail, in fewer round trips."""
import smtplib
import socket
import threading

import pytest

from .conftest import Relay
from mobilise.sending import pipelining


class Scripted(Relay):
    """Refuses by address: at MAIL FROM, at RCPT TO, or at the end of DATA."""

    def __init__(self, pipelining=True):
        super().__init__(pipelining=pipelining)
        self.bad_senders = {"busy@example.org": "451 4.3.0 Try again", "banned@example.org": "553 5.7.1 Not you"}
        self.bad_recipients = {"gone@example.net": "550 5.1.1 No such user", "full@example.net": "452 4.2.2 Mailbox full",
                               "closing@example.net": "421 4.3.2 Shutting down"}
        self.bad_content = {"spam@example.net": "554 5.7.1 Looks like spam"}

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address in self.bad_senders:
            return self.bad_senders[address]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.bad_recipients:
            return self.bad_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos[0] in self.bad_content:
            return self.bad_content[envelope.rcpt_tos[0]]
        return await super().handle_DATA(server, session, envelope)


CASES = [  # (sender, recipients) tried in turn on one session
    ("ua@example.org", ["ana@example.net"]),
    ("ua@example.org", ["gone@example.net"]),
    ("ua@example.org", ["ben@example.net", "gone@example.net"]),
    ("busy@example.org", ["cleo@example.net"]),
    ("banned@example.org", ["cleo@example.net"]),
    ("ua@example.org", ["full@example.net"]),
    ("ua@example.org", ["spam@example.net"]),
    ("ua@example.org", ["dan@example.net"]),
    ("ua@example.org", ["closing@example.net"]),
]
MESSAGE = b"Subject: test\r\n\r\nA line.\r\n.A line starting with a dot.\r\n..and two.\r\nEnd"


def outcomes(relay: Scripted, send) -> list:
    """What each case gave (the return value, or the exception with its codes), then what the relay kept."""
    relay.controller.start()
    results = []
    try:
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as smtp:
            for sender, recipients in CASES:
                if smtp.sock is None:
                    results.append("closed")
                    continue
                try:
                    results.append(("ok", send(smtp, sender, recipients, MESSAGE)))
                except smtplib.SMTPRecipientsRefused as error:
                    results.append(("recipients refused", error.recipients))
                except smtplib.SMTPSenderRefused as error:
                    results.append(("sender refused", error.smtp_code, error.sender))
                except smtplib.SMTPDataError as error:
                    results.append(("data refused", error.smtp_code, error.smtp_error))
    finally:
        relay.controller.stop()
    return results, [(e.mail_from, e.rcpt_tos, e.content) for e in relay.received]


def test_pipelined_sendmail_answers_as_smtplib_does_and_delivers_the_same():
    pipelined = outcomes(Scripted(), lambda smtp, *args: (
        pipelining.supports_pipelining(smtp) or pytest.fail("the relay offers PIPELINING"),
        pipelining.sendmail(smtp, *args),
    )[1])
    plain = outcomes(Scripted(pipelining=False), smtplib.SMTP.sendmail)

    assert pipelined == plain
    results, kept = pipelined
    assert results[0] == ("ok", {})
    assert results[2] == ("ok", {"gone@example.net": (550, b"5.1.1 No such user")})
    assert results[3] == ("sender refused", 451, "busy@example.org")
    assert results[6] == ("data refused", 554, b"5.7.1 Looks like spam")
    assert results[8] == ("recipients refused", {"closing@example.net": (421, b"4.3.2 Shutting down")})
    # Delivered with the dots doubled on the wire and undone by the relay, every refusal followed by a clean session.
    assert [(sender, rcpts) for sender, rcpts, _ in kept] == [
        ("ua@example.org", ["ana@example.net"]), ("ua@example.org", ["ben@example.net"]), ("ua@example.org", ["dan@example.net"]),
    ]
    assert all(content == MESSAGE + b"\r\n" for _, _, content in kept)


def test_mail_rcpt_and_data_go_in_one_write_when_the_relay_offers_pipelining():
    """A strict relay that answers nothing of a group before it has DATA: without pipelining the client
    would wait for MAIL's reply for ever."""
    server = socket.create_server(("127.0.0.1", 0))
    received = []

    def serve():
        conn, _ = server.accept()
        reader = conn.makefile("rb")
        conn.sendall(b"220 strict\r\n")
        group = []
        while line := reader.readline().upper():
            received.append(line)
            if line.startswith(b"EHLO"):
                conn.sendall(b"250-strict\r\n250 PIPELINING\r\n")
            elif line.startswith((b"MAIL", b"RCPT")):
                group.append(b"250 OK\r\n")
            elif line.startswith(b"DATA"):
                conn.sendall(b"".join(group) + b"354 go on\r\n")
                group = []
                while reader.readline() not in (b".\r\n", b""):
                    pass
                conn.sendall(b"250 queued\r\n")
            elif line.startswith(b"QUIT"):
                conn.sendall(b"221 bye\r\n")
                break
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with smtplib.SMTP(*server.getsockname(), timeout=3) as smtp:
        assert pipelining.supports_pipelining(smtp)
        for n in range(3):
            assert pipelining.sendmail(smtp, "ua@example.org", [f"p{n}@example.net"], MESSAGE) == {}
    thread.join(3)
    server.close()
    assert sum(line.startswith(b"DATA") for line in received) == 3

