"""What `flask inbound` reads from mail, without a socket: the samples in tests/inbound_samples/ (see its README),
the addresses it accepts, and the VERP addresses every email carries when INBOUND_DOMAIN is set."""

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from mobilise.deliverability import returned_mail
from mobilise.deliverability.feedback import record
from mobilise.deliverability.inbound import Mailbox, mailbox_for, receive, report_for
from mobilise.extensions import db
from mobilise.models import Delivery, Supporter
from mobilise.sequences.dispatch import start_drive
from mobilise.tokens import make_token, read_token

from .builders import make_case, make_office, make_supporters

SAMPLES = Path(__file__).parent / "inbound_samples"
DOMAIN = "bounces.mobilise.test"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def read(name: str):
    return returned_mail.parse(sample(name))


@pytest.mark.parametrize(
    "name, kind, status, recipient",
    [
        ("postfix-user-unknown.eml", "hard", "5.1.1", "kijitora@example.co.jp"),
        ("gmail-address-not-found-2025.eml", "hard", "5.1.1", "amd-xen-safety@groups.io"),
        ("outlook-mailbox-full.eml", "soft", "5.2.2", "kijitora@example.jp"),
        ("exchange2007-message-too-large.eml", "soft", "5.2.3", "john.smith@eu.a.b.c"),
    ],
)
def test_each_providers_dsn_reads_as_its_failure(name, kind, status, recipient):
    message = read(name)
    assert returned_mail.report_type(message) == "delivery-status"
    failure = returned_mail.failure(message)
    assert (failure.kind, failure.status, failure.recipient) == (kind, status, recipient)
    assert status in failure.detail  # the Diagnostic-Code, unfolded, for staff to read


def test_the_diagnostic_code_is_kept_whole_across_its_folded_lines():
    failure = returned_mail.failure(read("postfix-user-unknown.eml"))
    assert failure.detail == "smtp; 550 5.1.1 Address rejected kijitora@example.co.jp"


@pytest.mark.parametrize("name", ["exim-plain-text.eml", "gmail-plain-text-2010.eml"])
def test_a_bounce_written_only_for_people_is_not_read_as_one(name):
    message = read(name)
    assert b"550 5.1.1" in sample(name).replace(b"=\n", b"")  # the prose says it; nothing machine-readable does
    assert returned_mail.report_type(message) is None
    assert returned_mail.failure(message) is None and returned_mail.feedback(message) is None


def dsn(action: str, status: str | None = None, diagnostic: str | None = None) -> bytes:
    fields = [
        f"Action: {action}",
        *([f"Status: {status}"] if status else []),
        *([f"Diagnostic-Code: smtp; {diagnostic}"] if diagnostic else []),
    ]
    return (
        "Message-ID: <dsn@mx.example.net>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nA report.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
        "Final-Recipient: rfc822; someone@example.net\n" + "\n".join(fields) + "\n\n--B--\n"
    ).encode()


@pytest.mark.parametrize(
    "action, status, diagnostic, kind",
    [
        ("failed", "4.4.7", "421 4.4.7 Message expired", "soft"),  # the sender gave up on a temporary failure
        ("failed", "5.7.1", None, "hard"),
        ("failed", None, "550 Requested action not taken: mailbox unavailable", "hard"),  # no status: the reply code
        ("failed", None, "452 Too many recipients", "soft"),
        ("failed", None, None, "hard"),  # "failed" alone: the system gave up for good (RFC 3464 2.3.3)
        ("delayed", "4.4.1", "Connection timed out", None),  # still trying; it tells again if it gives up
        ("delivered", "2.0.0", None, None),
        ("relayed", "2.0.0", None, None),
        ("expanded", "2.0.0", None, None),
    ],
)
def test_what_each_action_and_status_of_a_dsn_means(action, status, diagnostic, kind):
    failure = returned_mail.failure(returned_mail.parse(dsn(action, status, diagnostic)))
    assert (failure.kind if failure else None) == kind


@pytest.mark.parametrize(
    "name, recipient, message_id",
    [
        ("arf-yahoo.eml", "some.user@yahoo.co.uk", "<20130224214000.1234@colony101.co.uk>"),
        ("arf-smp-abuse.eml", "redacted@example.net", None),  # the recipient redacted, as many loops send it
        ("arf-abusix-spamtrap.eml", "fake.rcpt@example.com", "<8A025E63-47F5-CDA0-78D2-C0E5A944FB10@example.net>"),
    ],
)
def test_each_feedback_report_reads_as_a_complaint(name, recipient, message_id):
    message = read(name)
    assert returned_mail.report_type(message) == "feedback-report"
    report = returned_mail.feedback(message)
    assert report.is_complaint and report.feedback_type == "abuse"
    assert (report.recipient, report.message_id) == (recipient, message_id)
    assert returned_mail.failure(message) is None


@pytest.mark.parametrize(
    "feedback_type, complaint", [("abuse", True), ("fraud", True), ("not-spam", False), ("virus", False), (None, True)]
)
def test_which_feedback_types_are_complaints(feedback_type, complaint):
    field = f"Feedback-Type: {feedback_type}\n".encode() if feedback_type else b""
    raw = sample("arf-yahoo.eml").replace(b"Feedback-Type: abuse\n", field)
    assert returned_mail.feedback(returned_mail.parse(raw)).is_complaint is complaint


def test_a_message_without_a_message_id_is_known_by_its_bytes():
    def event_of(raw: bytes) -> str:
        return returned_mail.event_id(returned_mail.parse(raw), raw)

    raw = b"Subject: no id\n\nhello\n"
    assert event_of(raw) == event_of(bytes(raw)) and event_of(raw).startswith("sha256:")
    assert event_of(b"Subject: no id\n\nhello again\n") != event_of(raw)
    assert event_of(b"Message-ID: <one@example.net>\n\nhello\n") == "<one@example.net>"


def test_only_our_addresses_at_the_inbound_domain_are_mailboxes(app):
    bounce, unsubscribe = make_token("bounce", 41), make_token("unsubscribe", 41)
    assert mailbox_for(f"bounce+{bounce}@{DOMAIN}", DOMAIN) == Mailbox("bounce", 41)
    assert mailbox_for(f"bounce+{bounce}@Bounces.Mobilise.Test", DOMAIN) == Mailbox("bounce", 41)
    assert mailbox_for(f"unsubscribe+{unsubscribe}@{DOMAIN}", DOMAIN) == Mailbox("unsubscribe", 41)
    assert mailbox_for(f"FBL@{DOMAIN}", DOMAIN) == Mailbox("fbl")
    refused = [
        f"bounce+{bounce}@example.org",  # another domain
        f"bounce+{bounce}@evil.{DOMAIN}",
        f"bounce+{unsubscribe}@{DOMAIN}",  # a token of another purpose
        f"unsubscribe+{bounce}@{DOMAIN}",
        f"bounce+{bounce[:-1]}x@{DOMAIN}" if not bounce.endswith("x") else f"bounce+{bounce[:-1]}y@{DOMAIN}",
        f"bounce+{bounce.lower()}@{DOMAIN}" if bounce.lower() != bounce else f"bounce+{bounce.upper()}@{DOMAIN}",
        f"bounce@{DOMAIN}",
        f"postmaster@{DOMAIN}",
        f"fbl+{bounce}@{DOMAIN}",
        "fbl",
        "",
    ]
    assert [address for address in refused if mailbox_for(address, DOMAIN) is not None] == []
    assert mailbox_for(f"fbl@{DOMAIN}", None) is None  # no INBOUND_DOMAIN, no mailbox


def sent(app, relay, run_jobs, count=2):
    """Launch a case to `count` supporters with INBOUND_DOMAIN set; the relay's envelopes."""
    app.config["INBOUND_DOMAIN"] = DOMAIN
    office = make_office()
    make_supporters(office, count)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    return relay.received


def delivery_to(email: str) -> Delivery:
    return db.session.scalar(db.select(Delivery).join(Supporter).where(Supporter.email == email))


def test_every_email_goes_out_from_its_own_verp_address_and_unsubscribes_at_its_own(app, relay, run_jobs):
    envelopes = sent(app, relay, run_jobs, count=3)
    assert len(envelopes) == 3
    for envelope in envelopes:
        delivery = delivery_to(envelope.rcpt_tos[0])
        match = re.fullmatch(rf"bounce\+([A-Za-z0-9_.-]+)@{re.escape(DOMAIN)}", envelope.mail_from)
        assert match and read_token("bounce", match.group(1)) == [delivery.id]
        message = message_from_bytes(envelope.content, policy=policy.default)
        mailto = re.search(r"<mailto:unsubscribe\+([A-Za-z0-9_.-]+)@([^>]+)>", message["List-Unsubscribe"])
        assert mailto.group(2) == DOMAIN and read_token("unsubscribe", mailto.group(1)) == [delivery.id]
        assert mailbox_for(envelope.mail_from, DOMAIN) == Mailbox("bounce", delivery.id)


def test_a_report_to_the_feedback_address_finds_its_email(app, relay, run_jobs):
    envelope = sent(app, relay, run_jobs, count=1)[0]
    delivery = delivery_to(envelope.rcpt_tos[0])
    arf = sample("arf-yahoo.eml")
    original_at = arf.index(b"Return-Path: <return-some.user")
    whole = arf[:original_at] + envelope.content.replace(b"\r\n", b"\n") + b"\n------=_Part_0_1361742248--\n"
    report = report_for(Mailbox("fbl"), f"fbl@{DOMAIN}", whole)
    assert (report.kind, report.delivery_id) == ("complaint", delivery.id)  # by its signed unsubscribe token

    # Only the returned email's headers, and no token among them: our Message-ID and the address are guessable,
    # so anyone could forge such a report to fbl@ to suppress a list; it is ignored and nothing changes.
    headers = f"Message-ID: <delivery.{delivery.id}@uk.example.org>\nTo: {envelope.rcpt_tos[0]}\n\n".encode()
    bare = arf[:original_at].replace(b"Content-Type: message/rfc822", b"Content-Type: text/rfc822-headers")
    forged = report_for(Mailbox("fbl"), f"fbl@{DOMAIN}", bare + headers + b"------=_Part_0_1361742248--\n")
    assert forged == "a feedback report to the feedback address names no email of ours by a signed token"
    assert record(report) == "recorded"
    assert db.session.get(Supporter, delivery.supporter_id).status == "complained"


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"Subject: Out of office\nAuto-Submitted: auto-replied\n\nBack on Monday.\n", "is not a DSN"),
        (sample("exim-plain-text.eml"), "is not a DSN"),
        (dsn("delayed", "4.4.1"), "reports no failure"),
        (sample("arf-yahoo.eml").replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam"), "is not a complaint"),
        (b"\xff\xfe not mail at all \x00", "is not a DSN"),
    ],
)
def test_what_a_bounce_address_receives_that_is_no_bounce_is_ignored_with_its_reason(app, raw, reason):
    found = report_for(Mailbox("bounce", 7), f"bounce+x@{DOMAIN}", raw)
    assert isinstance(found, str) and reason in found and "@" not in found


def test_any_message_to_an_unsubscribe_address_unsubscribes_whatever_it_says(app):
    found = report_for(Mailbox("unsubscribe", 7), f"unsubscribe+x@{DOMAIN}", b"\n")
    assert (found.kind, found.delivery_id) == ("unsubscribe", 7)


def test_a_message_cut_or_garbled_anywhere_is_ignored_never_a_crash(app):
    """Every sample cut at many points, and with bytes flipped: each is recorded, ignored or found unreadable,
    and nothing raises (the server would answer 451 and the sender try the same bytes for days)."""
    outcomes = set()
    for path in sorted(SAMPLES.glob("*.eml")):
        raw = path.read_bytes()
        for cut in range(0, len(raw), max(1, len(raw) // 23)):
            for variant in (raw[:cut], raw[:cut] + bytes(b ^ 0xA5 for b in raw[cut : cut + 40]) + raw[cut + 40 :]):
                outcome = receive(Mailbox("bounce", 10**6), f"bounce+x@{DOMAIN}", variant)
                outcomes.add(outcome.split(":")[0].split(" ")[0])
    assert outcomes <= {"ignored", "hard", "soft", "complaint"}
    assert {"ignored", "hard", "complaint"} <= outcomes  # the cuts after the report still read as one
