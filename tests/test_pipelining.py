"""SMTP PIPELINING: the same answers as smtplib's own sendmail, in fewer round trips."""

import smtplib
import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobilise.sending import pipelining

from .conftest import Relay


class Scripted(Relay):
    """Refuses by address: at MAIL FROM, at RCPT TO (`Relay.refuse`), or at the end of DATA."""

    def __init__(self, pipelining=True):
        super().__init__(pipelining=pipelining)
        self.bad_senders = {"busy@example.org": "451 4.3.0 Try again", "banned@example.org": "553 5.7.1 Not you"}
        self.refuse = {
            "gone@example.net": "550 5.1.1 No such user",
            "full@example.net": "452 4.2.2 Mailbox full",
            "closing@example.net": "421 4.3.2 Shutting down",
        }
        self.bad_content = {"spam@example.net": "554 5.7.1 Looks like spam"}

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address in self.bad_senders:
            return self.bad_senders[address]
        envelope.mail_from = address
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


def outcomes(relay: Scripted, sender_for) -> list:
    """What each case gave (the return value, or the exception with its codes), then what the relay kept.
    `sender_for(smtp)` returns the function that sends case n."""
    relay.controller.start()
    results = []
    try:
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as smtp:
            send = sender_for(smtp)
            for n in range(len(CASES)):
                if smtp.sock is None:
                    results.append("closed")
                    continue
                try:
                    results.append(("ok", send(n)))
                except smtplib.SMTPRecipientsRefused as error:
                    results.append(("recipients refused", error.recipients))
                except smtplib.SMTPSenderRefused as error:
                    results.append(("sender refused", error.smtp_code, error.sender))
                except smtplib.SMTPDataError as error:
                    results.append(("data refused", error.smtp_code, error.smtp_error))
    finally:
        relay.controller.stop()
    return results, [(e.mail_from, e.rcpt_tos, e.content) for e in relay.received]


def pipelined(smtp):
    """Each case sent with the next case's envelope written ahead, in the same write as its content."""
    assert pipelining.supports_pipelining(smtp), "the relay offers PIPELINING"
    pipeline = pipelining.Pipeline(smtp)
    envelopes = [pipelining.Envelope(smtp, sender, recipients, MESSAGE) for sender, recipients in CASES]
    return lambda n: pipeline.sendmail(envelopes[n], envelopes[n + 1] if n + 1 < len(envelopes) else None)


def one_at_a_time(smtp):
    return lambda n: smtp.sendmail(*CASES[n], MESSAGE)


def test_pipelined_sendmail_answers_as_smtplib_does_and_delivers_the_same():
    ours = outcomes(Scripted(), pipelined)
    smtplibs = outcomes(Scripted(pipelining=False), one_at_a_time)

    assert ours == smtplibs
    results, kept = ours
    assert results[0] == ("ok", {})
    assert results[2] == ("ok", {"gone@example.net": (550, b"5.1.1 No such user")})
    assert results[3] == ("sender refused", 451, "busy@example.org")
    assert results[6] == ("data refused", 554, b"5.7.1 Looks like spam")
    assert results[8] == ("recipients refused", {"closing@example.net": (421, b"4.3.2 Shutting down")})
    # Delivered with the dots doubled on the wire and undone by the relay, every refusal followed by a clean session.
    assert [(sender, rcpts) for sender, rcpts, _ in kept] == [
        ("ua@example.org", ["ana@example.net"]),
        ("ua@example.org", ["ben@example.net"]),
        ("ua@example.org", ["dan@example.net"]),
    ]
    assert all(content == MESSAGE + b"\r\n" for _, _, content in kept)


def strict_relay():
    """A relay that answers a group only once the group is complete: MAIL and RCPT when DATA comes, and
    the end of a message when the next group (or QUIT) comes, or after 0.3 s of silence, counted as a
    wait. smtplib alone, which waits for MAIL's reply, would wait for ever."""
    server = socket.create_server(("127.0.0.1", 0))
    seen = {"delivered": 0, "waits": 0}

    def serve():
        conn, _ = server.accept()
        buffer = b""

        def fill() -> None:
            nonlocal buffer
            chunk = conn.recv(65536)
            if not chunk:
                raise EOFError
            buffer += chunk

        def line() -> bytes:
            nonlocal buffer
            while b"\r\n" not in buffer:
                fill()
            out, buffer = buffer.split(b"\r\n", 1)
            return out

        conn.sendall(b"220 strict\r\n")
        held = []
        try:
            while command := line().upper():
                if command.startswith(b"EHLO"):
                    conn.sendall(b"250-strict\r\n250 PIPELINING\r\n")
                elif command.startswith((b"MAIL", b"RCPT")):
                    held.append(b"250 OK\r\n")
                elif command == b"DATA":
                    conn.sendall(b"".join(held) + b"354 go on\r\n")
                    held = []
                    while line() != b".":
                        pass
                    seen["delivered"] += 1
                    held.append(b"250 queued\r\n")
                    conn.settimeout(0.3)
                    try:
                        while b"\r\n" not in buffer:
                            fill()
                    except TimeoutError:
                        seen["waits"] += 1
                        conn.sendall(b"".join(held))
                        held = []
                    conn.settimeout(None)
                elif command == b"QUIT":
                    conn.sendall(b"".join(held) + b"221 bye\r\n")
                    break
        except EOFError:
            pass
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread, seen


def test_one_round_trip_an_email_when_the_relay_offers_pipelining():
    server, thread, seen = strict_relay()
    with smtplib.SMTP(*server.getsockname(), timeout=3) as smtp:
        assert pipelining.supports_pipelining(smtp)
        pipeline = pipelining.Pipeline(smtp)
        envelopes = [pipelining.Envelope(smtp, "ua@example.org", [f"p{n}@example.net"], MESSAGE) for n in range(4)]
        for n, envelope in enumerate(envelopes):
            assert pipeline.sendmail(envelope, envelopes[n + 1] if n < 3 else None) == {}
    thread.join(3)
    server.close()
    # Only the last message waited for its reply: every other one's reply came with the next group.
    assert seen == {"delivered": 4, "waits": 1}


def test_an_envelope_written_ahead_whose_message_never_comes_delivers_nothing():
    relay = Scripted()
    relay.controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as smtp:
            assert pipelining.supports_pipelining(smtp)
            pipeline = pipelining.Pipeline(smtp)
            first, second = (
                pipelining.Envelope(smtp, "ua@example.org", [f"{name}@example.net"], MESSAGE) for name in ("ana", "ben")
            )
            pipeline.sendmail(first, second)
            pipeline.abandon()  # the relay said 354 to ben's DATA: the session is dropped rather than sent "."
            assert smtp.sock is None
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as smtp:
            pipeline = pipelining.Pipeline(smtp)
            pipelining.supports_pipelining(smtp)
            first, refused = (
                pipelining.Envelope(smtp, "ua@example.org", [f"{name}@example.net"], MESSAGE)
                for name in ("cleo", "gone")
            )
            pipeline.sendmail(first, refused)
            pipeline.abandon()  # refused at RCPT: a RSET, and the session goes on
            assert pipeline.sendmail(pipelining.Envelope(smtp, "ua@example.org", ["dan@example.net"], MESSAGE)) == {}
    finally:
        relay.controller.stop()
    assert [e.rcpt_tos for e in relay.received] == [["ana@example.net"], ["cleo@example.net"], ["dan@example.net"]]


@pytest.mark.parametrize(
    "address",
    [
        "a@b.c",
        "person12345@example.net",
        "o'neil+tag@ex-ample.org",
        "UPPER.case@EXAMPLE.NET",
        "Ana <ana@example.org>",
        '"quoted name"@example.org',
        "x@[127.0.0.1]",
        "<ua@example.org>",
        " spaced@example.org",
        "no-at-sign",
        "",
    ],
)
def test_envelope_addresses_are_written_as_smtplib_writes_them(address):
    assert pipelining.quoteaddr(address) == smtplib.quoteaddr(address)


def test_lines_starting_with_a_dot_are_doubled_on_the_wire_and_nothing_else_is():
    def wire(message):
        return pipelining.Envelope(smtplib.SMTP(), "ua@example.org", ["ana@example.net"], message).content()

    assert wire(b".first\r\nmid.dle\r\n.\r\n..two") == b"..first\r\nmid.dle\r\n..\r\n...two\r\n.\r\n"
    assert wire(b"no dots at the start\r\n") == b"no dots at the start\r\n.\r\n"


@given(st.lists(st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"a", b" .", b"\r\n.\r\n"])).map(b"".join))
def test_a_message_goes_on_the_wire_exactly_as_smtplib_would_write_it(message):
    """smtplib's DATA: lines starting with a dot doubled, then CRLF and the final dot (RFC 5321 4.5.2)."""
    expected = smtplib._quote_periods(message)
    expected += (b"" if expected.endswith(b"\r\n") else b"\r\n") + b".\r\n"
    assert pipelining.Envelope(smtplib.SMTP(), "ua@example.org", ["ana@example.net"], message).content() == expected
