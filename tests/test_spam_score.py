"""Every email the service sends passes SpamAssassin's local rules: at most 0.5 points each.

Each stage (launch, update, extension, reminder, good-news outcome, sign-up confirmation, a visitor's confirmation)
in each language the service writes, for a case with tracking (open pixel, wrapped links, the office's logo) and a
high-risk one (none of them), as the relay received it, scored by Debian's `spamassassin -L -t` (local rules, no
network tests). The messages are scored in one run (`--mbox`), as loading the rules is most of a run's time.
"""

import json
import mailbox
import re
import shutil
import subprocess
from datetime import date, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest

import mobilise
from mobilise.cases.service import create_case
from mobilise.extensions import db
from mobilise.languages import UI_LANGUAGES
from mobilise.models import Mailing
from mobilise.sending.tick import tick
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.lifecycle import apply_change
from mobilise.supporters.service import upsert_supporters

from .builders import make_case, make_office, translated
from .test_stats import links_for

MOST = 0.5
LOGO = "https://www.uk.example.org/email-logo.png"
RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")


def spamassassin() -> str:
    binary = shutil.which("spamassassin")
    assert binary, (
        "Debian's spamassassin package is needed (scripts/test installs it in CI: apt-get install -y spamassassin)"
    )
    return binary


def scores(messages: dict[str, bytes], folder) -> dict[str, tuple[float, list[str]]]:
    """label -> (score, the rules hit with their points), each message scored by `spamassassin -L -t`."""
    box_path = folder / "emails.mbox"
    box = mailbox.mbox(str(box_path))
    by_id = {}
    for label, raw in messages.items():
        box.add(mailbox.mboxMessage(raw))
        by_id[message_from_bytes(raw)["Message-ID"].strip()] = label
    box.flush()
    box.close()
    with open(box_path, "rb") as emails:
        result = subprocess.run([spamassassin(), "-L", "-t", "--mbox"], stdin=emails, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    found = {}
    for block in re.split(rb"(?m)^From MAILER-DAEMON .*\n", result.stdout):
        if not block.strip():
            continue
        text = block.decode("utf-8", "replace")
        message_id = re.search(r"(?mi)^Message-ID:\s*(<[^>]+>)", text).group(1)
        points = float(re.search(r"Content analysis details:\s+\((-?[\d.]+) points", text).group(1))
        report = text.split("Content analysis details:", 1)[1]
        rules = [
            f"{m.group(2)} {m.group(1)} ({m.group(3).strip()})"
            for line in report.splitlines()
            if (m := RULE.match(line)) and float(m.group(1)) != 0
        ]
        found[by_id[message_id]] = (points, rules)
    assert set(found) == set(messages), "spamassassin did not score every email"
    return found


def received(relay) -> dict[str, bytes]:
    """What the relay received since last asked, by recipient; the relay is emptied."""
    got = {envelope.rcpt_tos[0]: envelope.content for envelope in relay.received}
    relay.received.clear()
    return got


def a_case(kind: str, high_risk: bool):
    """`short`: the builders' case, a line of each text, in every language; `seed`: the real UA the demo sends, its
    whole summary, letter and additional information, in English, Spanish and French (the others read English)."""
    if kind == "seed":
        fields = json.loads((Path(mobilise.__file__).parent / "demo_data" / "case.json").read_text())
        return create_case(
            {**fields, "deadline": (date.today() + timedelta(days=60)).isoformat(), "high_risk": high_risk}
        )
    return make_case(
        translations=translated(*(code for code in UI_LANGUAGES if code != "en")),
        high_risk=high_risk,
        people=["Eduardo Torres", "Rocío San Miguel"],
    )


def every_case_email(client, relay, run_jobs, *, kind: str, high_risk: bool) -> dict[str, bytes]:
    office = make_office(logo_url=LOGO)
    case = a_case(kind, high_risk)
    upsert_supporters(
        office, [{"email": f"{code}@example.net", "first_name": "Zoë", "language": code} for code in UI_LANGUAGES]
    )
    emails = {}

    def keep(stage):
        for address, raw in received(relay).items():
            emails[f"{stage} {address.split('@')[0]}"] = raw

    start_drive(case, office, {"office": "GB"})
    run_jobs()
    acts = {code: links_for(relay, f"{code}@example.net")["act"] if not high_risk else None for code in UI_LANGUAGES}
    if high_risk:  # no wrapped links, but the action link is there all the same
        acts = {
            code: re.search(r"/act/[A-Za-z0-9_.-]+", message.get_body(("plain",)).get_content()).group(0)
            for code in UI_LANGUAGES
            for message in relay.messages()
            if message["To"] == f"{code}@example.net"
        }
    keep("launch")
    apply_change(
        case, {"kind": "update", "body": "Eduardo Torres was moved to another prison on 3 March. Please keep writing."}
    )
    run_jobs(tick=True)
    keep("update")
    reminder = db.session.scalars(
        db.select(Mailing).where(Mailing.stage == "reminder").order_by(Mailing.send_at)
    ).first()
    tick(at=reminder.send_at)
    run_jobs()
    keep("reminder")
    apply_change(
        case, {"kind": "deadline_extended", "deadline": "2031-01-31", "body": "The authorities have not answered yet."}
    )
    run_jobs(tick=True)
    keep("extension")
    for code in ("en", "fr"):  # a visitor of the public page, asked to confirm
        asked = client.post(
            f"/cases/{case.slug}/actions?office=GB&lang={code}", data={"email": f"visitor-{code}@example.org"}
        )
        assert asked.status_code == 202
    run_jobs()
    keep("visitor_action")
    for act in acts.values():
        assert client.post(act).status_code == 200
    run_jobs()
    apply_change(case, {"kind": "closed", "outcome": "good_news", "body": "Eduardo Torres was released on 20 March."})
    run_jobs(tick=True)
    keep("outcome")
    return emails


def sign_up_confirmations(client, relay, run_jobs) -> dict[str, bytes]:
    for n, code in enumerate(UI_LANGUAGES):  # from networks of their own: sign-ups are throttled by network
        signed = client.post(
            "/subscribe/GB",
            data={"email": f"new-{code}@example.org", "language": code},
            environ_base={"REMOTE_ADDR": f"198.51.{n}.7"},
        )
        assert signed.status_code == 202
    run_jobs()
    return {f"confirm {address.split('@')[0]}": raw for address, raw in received(relay).items()}


@pytest.mark.parametrize(
    ("kind", "high_risk"),
    [("short", False), ("short", True), ("seed", False), ("seed", True)],
    ids=["short-tracked", "short-high_risk", "seed-tracked", "seed-high_risk"],
)
def test_every_email_scores_at_most_half_a_point(app, client, relay, run_jobs, tmp_path, kind, high_risk):
    emails = every_case_email(client, relay, run_jobs, kind=kind, high_risk=high_risk)
    if kind == "short" and not high_risk:
        emails |= sign_up_confirmations(client, relay, run_jobs)
    stages = {label.split()[0] for label in emails}
    expected = {"launch", "update", "reminder", "extension", "outcome", "visitor_action"}
    expected |= {"confirm"} if kind == "short" and not high_risk else set()
    assert stages == expected
    assert sum(label.startswith("outcome") for label in emails) == len(
        UI_LANGUAGES
    )  # each one who acted, each language
    too_high = {label: found for label, found in scores(emails, tmp_path).items() if found[0] > MOST}
    assert not too_high, "\n".join(
        f"{label}: {points} points: {', '.join(rules)}" for label, (points, rules) in sorted(too_high.items())
    )
