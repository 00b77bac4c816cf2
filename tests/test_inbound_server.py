"""`flask inbound` as it runs: a real process on a free port, spoken to with smtplib, the emails it answers sent
first through the real pipeline to the test relay. The DSN and the report sent are the Postfix and Yahoo samples
(tests/inbound_samples/) addressed to the email the relay received."""

import re
import smtplib
import subprocess
import sys
import time
from contextlib import contextmanager
from email import message_from_bytes, policy

import pytest

from mobilise.deliverability.models import FeedbackEvent
from mobilise.extensions import db
from mobilise.models import Bounce, Delivery, Supporter
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .conftest import ROOT, free_port
from .test_inbound import DOMAIN, sample


@contextmanager
def inbound(env, tmp_path, database_url=None):
    """A `flask inbound` process for DOMAIN; yields its port and a reader of its output. Always stopped."""
    port = free_port()
    env = {**env, "INBOUND_DOMAIN": DOMAIN, **({"DATABASE_URL": database_url} if database_url else {})}
    log = tmp_path / f"inbound-{port}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "inbound", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(1200):  # a minute, for a loaded machine
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
                    probe.noop()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"flask inbound exited: {log.read_text()[-3000:]}")
                time.sleep(0.05)
        else:
            pytest.fail(f"flask inbound did not answer: {log.read_text()[-3000:]}")
        yield port, log.read_text
    finally:
        process.terminate()
        process.wait(timeout=30)


def send(port: int, recipient: str, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("", [recipient], raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def launch(app, relay, run_jobs, count=2):
    app.config["INBOUND_DOMAIN"] = DOMAIN
    office = make_office()
    make_supporters(office, count)
    case = make_case()
    drive = start_drive(case, office, {"office": "GB"})
    run_jobs()
    assert len(relay.received) == count
    return case, drive.mailings[0].id, sorted(relay.received, key=lambda e: e.rcpt_tos[0])


def returned(sample_name: str, envelope, returned_at: bytes, end: bytes, replace: dict[bytes, bytes]) -> bytes:
    """A sample report about one of our emails: its own recipient replaced by ours, its returned email by ours."""
    raw = sample(sample_name)
    head = raw[: raw.index(returned_at)]
    for old, new in replace.items():
        head = head.replace(old, new)
    return head + envelope.content.replace(b"\r\n", b"\n") + b"\n" + end


def postfix_dsn(envelope, status=b"5.1.1") -> bytes:
    recipient = envelope.rcpt_tos[0].encode()
    return returned(
        "postfix-user-unknown.eml",
        envelope,
        b"Received: from r.example.ne.jp",
        b"--6265E1AC124.1274695610/mv-osn-hcb007.ocn.ad.jp--\n",
        {
            b"kijitora@example.co.jp": recipient,
            b"shironeko@example.ne.jp": envelope.mail_from.encode(),
            b"Status: 5.1.1": b"Status: " + status,
        },
    )


def yahoo_arf(envelope) -> bytes:
    return returned(
        "arf-yahoo.eml",
        envelope,
        b"Return-Path: <return-some.user",
        b"------=_Part_0_1361742248--\n",
        {b"some.user@yahoo.co.uk": envelope.rcpt_tos[0].encode()},
    )


def status_of(email: str) -> str:
    db.session.expire_all()
    return db.session.scalar(db.select(Supporter.status).where(Supporter.email == email))


def mailing_stats(client, case, mailing_id) -> dict:
    admin = token_for("admin@example.org", admin=True)
    stats = client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(admin)).json
    return next(m for m in stats["mailings"] if m["id"] == mailing_id)


def test_a_dsn_bounces_its_email_once_however_often_it_comes(app, client, relay, run_jobs, service_env, tmp_path):
    case, mailing_id, (gone, kept) = launch(app, relay, run_jobs)
    dsn = postfix_dsn(gone)
    with inbound(service_env, tmp_path) as (port, output):
        send(port, gone.mail_from, dsn)
        send(port, gone.mail_from, dsn)  # the sender's retry, or a second copy
        assert status_of(gone.rcpt_tos[0]) == "bounced"
        assert status_of(kept.rcpt_tos[0]) == "subscribed"
        assert mailing_stats(client, case, mailing_id)["bounced"] == 1
        bounces = db.session.scalars(db.select(Bounce).where(Bounce.source == "inbound")).all()
        assert [(b.kind, b.delivery_id) for b in bounces] == [("hard", delivery_of(gone).id)]
        assert "5.1.1" in bounces[0].detail and "Address rejected" in bounces[0].detail
        lines = output()
    assert "hard recorded" in lines and "hard duplicate" in lines
    assert gone.rcpt_tos[0] not in lines and gone.mail_from not in lines  # no address, no token in the log


def delivery_of(envelope) -> Delivery:
    return db.session.scalar(db.select(Delivery).join(Supporter).where(Supporter.email == envelope.rcpt_tos[0]))


def test_a_soft_bounce_is_noted_without_stopping_mail(app, client, relay, run_jobs, service_env, tmp_path):
    case, mailing_id, (first, _) = launch(app, relay, run_jobs)
    with inbound(service_env, tmp_path) as (port, _):
        send(port, first.mail_from, postfix_dsn(first, status=b"4.2.2"))
        assert status_of(first.rcpt_tos[0]) == "subscribed"
        assert db.session.scalars(db.select(Bounce.kind).where(Bounce.source == "inbound")).all() == ["soft"]
        assert mailing_stats(client, case, mailing_id)["bounced"] == 0


def test_a_feedback_report_complains_and_a_mail_to_the_unsubscribe_address_unsubscribes(
    app, client, relay, run_jobs, service_env, tmp_path
):
    case, mailing_id, (complainer, leaver) = launch(app, relay, run_jobs)
    list_unsubscribe = message_from_bytes(leaver.content, policy=policy.default)["List-Unsubscribe"]
    unsubscribe_address = re.search(r"<mailto:([^>?]+)>", list_unsubscribe).group(1)
    with inbound(service_env, tmp_path) as (port, _):
        send(port, f"fbl@{DOMAIN}", yahoo_arf(complainer))
        send(port, unsubscribe_address, b"Subject: unsubscribe\n\n")
        assert status_of(complainer.rcpt_tos[0]) == "complained"
        assert status_of(leaver.rcpt_tos[0]) == "unsubscribed"
        assert mailing_stats(client, case, mailing_id)["unsubscribed"] == 1


def test_mail_to_any_other_address_is_refused_and_changes_nothing(app, relay, run_jobs, service_env, tmp_path):
    _, _, (first, _) = launch(app, relay, run_jobs)
    token = first.mail_from.split("+", 1)[1].split("@", 1)[0]
    tampered = f"bounce+{token[:-2]}{'AB' if token[-2:] != 'AB' else 'CD'}@{DOMAIN}"
    strays = [
        tampered,
        f"postmaster@{DOMAIN}",
        f"bounce+{token}@example.org",
        "someone@example.org",
        f"unsubscribe+{token}@{DOMAIN}",
    ]  # a bounce token at the unsubscribe address
    with inbound(service_env, tmp_path) as (port, _):
        for stray in strays:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                send(port, stray, postfix_dsn(first))
            assert refused.value.recipients[stray][0] == 550
        assert status_of(first.rcpt_tos[0]) == "subscribed"
        assert db.session.scalar(db.select(db.func.count(FeedbackEvent.id))) == 0


def test_the_server_limits_size_and_recipients(app, service_env, tmp_path):
    with inbound(service_env, tmp_path) as (port, _):
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.ehlo()
            assert client.esmtp_features["size"] == str(10 * 1024 * 1024)
            client.mail("")
            answers = [client.rcpt(f"fbl@{DOMAIN}")[0] for _ in range(11)]
        assert answers == [250] * 10 + [452]
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            send(port, f"fbl@{DOMAIN}", b"Subject: big\n\n" + b"x" * (10 * 1024 * 1024 + 1))
        assert refused.value.smtp_code == 552


def test_a_database_error_answers_451_so_the_sender_tries_again(app, client, relay, run_jobs, service_env, tmp_path):
    case, mailing_id, (gone, _) = launch(app, relay, run_jobs)
    dsn = postfix_dsn(gone)
    down = f"sqlite:///{tmp_path / 'missing' / 'mobilise.sqlite'}"  # a folder that is not there: cannot be opened
    with inbound(service_env, tmp_path, database_url=down) as (port, _):
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            send(port, gone.mail_from, dsn)
        assert deferred.value.smtp_code == 451
    assert status_of(gone.rcpt_tos[0]) == "subscribed"
    with inbound(service_env, tmp_path) as (port, _):
        send(port, gone.mail_from, dsn)  # the retry, once the database is back
        assert status_of(gone.rcpt_tos[0]) == "bounced"
        assert mailing_stats(client, case, mailing_id)["bounced"] == 1


def test_without_an_inbound_domain_the_command_refuses_to_start(app, runner):
    app.config["INBOUND_DOMAIN"] = None
    result = runner.invoke(args=["inbound", "--port", str(free_port())])
    assert result.exit_code == 1 and "set INBOUND_DOMAIN" in result.output
