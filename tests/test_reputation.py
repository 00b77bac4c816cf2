"""An office's reputation with the mailbox providers, and its suppression list (issue #18).

A real launch to a real relay makes the deliveries; the relay refuses one address at RCPT; the relays' reports
come in through the API as they do in production. Only the time of some sends is moved back, as the clock would.
"""

import csv
import io
import re
from datetime import timedelta

import pytest

from mobilise.clock import utcnow
from mobilise.deliverability import suppressions
from mobilise.extensions import db
from mobilise.models import Delivery, Supporter
from mobilise.sequences.dispatch import start_drive
from mobilise.supporters.service import upsert_supporters

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .test_console import sign_in

SPAIN = {
    "code": "ES",
    "name": "Amnistía España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "ua@es.example.org",
}
ADDRESSES = {
    "gmail": ["ana@gmail.com", "ben@googlemail.com", "chloe@gmail.com", "dev@gmail.com"],
    "microsoft": ["eva@hotmail.fr", "finn@outlook.com"],
    "yahoo": ["gus@yahoo.co.uk"],
    "other": ["hana@example.org", "ivo@example.org"],
}
SENT_TEN_DAYS_AGO = ("chloe@gmail.com", "dev@gmail.com")


def delivery_of(email: str) -> Delivery:
    return db.session.scalar(
        db.select(Delivery).join(Supporter, Supporter.id == Delivery.supporter_id).where(Supporter.email == email)
    )


def message_id(email: str) -> str:
    return f"<delivery.{delivery_of(email).id}@uk.example.org>"


@pytest.fixture
def sent(app, client, relay, run_jobs):
    """GB mailed nine people: one refused at RCPT, one complained (reported twice), one hard-bounced after the relay
    took the email, one unsubscribed; two were sent ten days ago. Spain has people but sent nothing."""
    gb, es = make_office(), make_office(**SPAIN)
    upsert_supporters(gb, [{"email": email} for emails in ADDRESSES.values() for email in emails])
    make_supporters(es, 2)
    relay.refuse["ivo@example.org"] = "550 5.1.1 No such user"
    start_drive(make_case(), gb, {"office": "GB"})
    run_jobs()
    admin = bearer(token_for("admin@example.org", admin=True))
    for report in (
        {"message_id": message_id("ana@gmail.com"), "type": "complaint"},
        {"message_id": message_id("ana@gmail.com"), "type": "complaint"},  # the same complaint again
        {"message_id": message_id("eva@hotmail.fr"), "type": "hard", "detail": "550 5.1.1 gone"},
        {"message_id": message_id("gus@yahoo.co.uk"), "type": "soft"},
    ):  # soft bounces are not counted
        assert client.post("/api/v1/events/bounces", json=report, headers=admin).status_code == 200
    html = next(m for m in relay.messages() if m["To"] == "hana@example.org").get_body(("html",)).get_content()
    unsubscribe = re.search(r'href="http://mobilise\.test(/unsubscribe/[^"]+)"', html).group(1)
    assert client.post(unsubscribe).status_code == 200
    for email in SENT_TEN_DAYS_AGO:
        delivery_of(email).sent_at = utcnow() - timedelta(days=10)
    db.session.commit()
    return {
        "admin": admin,
        "gb": bearer(token_for("staff@uk.example.org", office="GB")),
        "es": bearer(token_for("staff@es.example.org", office="ES")),
    }


def counts(row: dict) -> tuple:
    return row["sent"], row["refused"], row["hard_bounces"], row["complaints"]


def test_the_rates_per_provider_and_in_total_over_30_and_7_days(client, sent):
    answer = client.get("/api/v1/offices/GB/reputation", headers=sent["gb"])
    assert answer.status_code == 200
    month, week = answer.json["windows"]["30"], answer.json["windows"]["7"]
    domains = month["domains"]
    # sent, refused at RCPT, hard bounces, complaints: the complaint sent twice counts once, the soft bounce not at all.
    assert {name: counts(row) for name, row in domains.items()} == {
        "gmail": (4, 0, 0, 1),
        "microsoft": (2, 0, 1, 0),
        "yahoo": (1, 0, 0, 0),
        "other": (1, 1, 1, 0),
    }
    assert counts(month["total"]) == (8, 1, 2, 1)
    assert month["total"]["hard_bounce_rate"] == pytest.approx(2 / 9)  # hard bounces / (sent + refused)
    assert month["total"]["complaint_rate"] == pytest.approx(1 / 8)  # complaints / sent
    assert domains["gmail"]["complaint_rate"] == pytest.approx(0.25) and domains["gmail"]["complaint_level"] == "over"
    assert (
        domains["other"]["hard_bounce_rate"] == pytest.approx(0.5) and domains["other"]["hard_bounce_level"] == "over"
    )
    assert domains["yahoo"]["hard_bounce_level"] == "ok" and domains["yahoo"]["complaint_level"] == "ok"
    assert month["total"]["small_sample"] is True
    # The two emails sent ten days ago count in the 30 days, not in the 7; the reports came today.
    assert counts(week["domains"]["gmail"]) == (2, 0, 0, 1)
    assert week["domains"]["gmail"]["complaint_rate"] == pytest.approx(0.5)
    assert counts(week["total"]) == (6, 1, 2, 1)
    assert answer.json["thresholds"] == {
        "complaint_rate": {"near": 0.001, "over": 0.003},
        "hard_bounce_rate": {"near": 0.025, "over": 0.05},
        "min_sample": 500,
    }


def test_the_days_hold_each_send_on_its_day(client, sent):
    days = client.get("/api/v1/offices/GB/reputation", headers=sent["admin"]).json["days"]
    assert len(days) == 30 and days[-1]["date"] == utcnow().date().isoformat()
    today, ten_days_ago = days[-1], days[-11]
    assert (today["sent"], today["hard_bounces"], today["complaints"]) == (6, 2, 1)
    assert (ten_days_ago["sent"], ten_days_ago["hard_bounces"], ten_days_ago["complaints"]) == (2, 0, 0)
    assert sum(day["sent"] for day in days) == 8


def test_an_office_that_sent_nothing_has_no_rates_rather_than_a_division_error(client, sent):
    answer = client.get("/api/v1/offices/ES/reputation", headers=sent["es"])
    assert answer.status_code == 200
    for window in answer.json["windows"].values():
        for row in (window["total"], *window["domains"].values()):
            assert counts(row) == (0, 0, 0, 0)
            assert (
                row["hard_bounce_rate"],
                row["hard_bounce_level"],
                row["complaint_rate"],
                row["complaint_level"],
            ) == (None,) * 4
    sign_in(client, "staff@es.example.org")
    page = client.get("/console/deliverability").get_data(as_text=True)
    assert "Amnistía España" in page and "—" in page and "%" in page


def test_the_bounce_line_is_the_configured_guard_share(app, client, sent):
    app.config["GUARD_BOUNCE_RATE"] = 0.6
    month = client.get("/api/v1/offices/GB/reputation", headers=sent["gb"]).json["windows"]["30"]
    assert month["domains"]["microsoft"]["hard_bounce_level"] == "near"  # 50%: past half of 60%, not past 60%
    assert month["total"]["hard_bounce_level"] == "ok"  # 22%


def test_an_office_reads_only_its_own_reputation_and_suppressions(client, sent):
    for path in ("reputation", "suppressions"):
        assert client.get(f"/api/v1/offices/ES/{path}", headers=sent["gb"]).status_code == 404
        assert client.get(f"/api/v1/offices/GB/{path}", headers=sent["es"]).status_code == 404
        assert client.get(f"/api/v1/offices/GB/{path}").status_code == 401
    sign_in(client, "staff@uk.example.org")
    assert client.get("/console/deliverability?office=ES").status_code == 404
    assert client.get("/console/deliverability/suppressions.csv?office=ES").status_code == 404


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_suppression_list_is_exactly_the_office_s_suppressed_people_with_why(client, sent):
    erased = client.post("/api/v1/offices/GB/supporters/erase", json={"email": "finn@outlook.com"}, headers=sent["gb"])
    assert erased.status_code == 200  # erased: unsubscribed, but with no address left to list
    es_person = db.session.scalar(
        db.select(Supporter).where(Supporter.office_id != delivery_of("ana@gmail.com").supporter.office_id)
    )
    es_person.status = "unsubscribed"  # another office's: never on GB's list
    db.session.commit()

    answer = client.get("/api/v1/offices/GB/suppressions", headers=sent["gb"])
    assert answer.status_code == 200 and answer.mimetype == "text/csv" and answer.is_streamed
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="suppressions-GB-')
    assert answer.get_data(as_text=True).splitlines()[0] == "email,status,since,reason"
    listed = {row["email"]: (row["status"], row["reason"]) for row in rows_of(answer)}
    assert listed == {
        "ana@gmail.com": ("complained", "relay report: complaint"),
        "eva@hotmail.fr": ("bounced", "relay report: hard"),
        "ivo@example.org": ("bounced", "relay refused the address: 550 5.1.1 No such user"),
        "hana@example.org": ("unsubscribed", "unsubscribe link in an email"),
    }
    assert all(row["since"].startswith(utcnow().date().isoformat()) for row in rows_of(answer))

    sign_in(client, "staff@uk.example.org")
    page = client.get("/console/deliverability").get_data(as_text=True)
    assert 'href="/console/deliverability/suppressions.csv"' in page
    download = client.get("/console/deliverability/suppressions.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv" and rows_of(download) == rows_of(answer)


def test_a_long_list_is_read_a_batch_at_a_time_and_loses_no_one(client, sent, monkeypatch):
    monkeypatch.setattr(suppressions, "BATCH", 3)  # 4 suppressed: a full batch, then a short one
    emails = [row["email"] for row in rows_of(client.get("/api/v1/offices/GB/suppressions", headers=sent["admin"]))]
    assert sorted(emails) == ["ana@gmail.com", "eva@hotmail.fr", "hana@example.org", "ivo@example.org"]
    assert len(emails) == len(set(emails))


def test_the_console_page_marks_each_rate_in_words_and_draws_the_days(client, sent):
    sign_in(client, "staff@uk.example.org")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/console/deliverability"' in home  # in the console's menu
    page = client.get("/console/deliverability")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The last 7 days" in text and "The last 30 days" in text
    gmail_30 = re.findall(r"<th scope=\"row\">Gmail</th>(.*?)</tr>", text, re.S)[1]
    assert "25.00%" in gmail_30 and '<span class="level over">over</span>' in gmail_30
    assert '<span class="level ok">ok</span>' in text
    assert "<svg" in text and "<script" not in text and "Complaints (most in a day: 1)" in text


def test_an_admin_picks_the_office_whose_deliverability_to_read(client, sent):
    sign_in(client, "admin@example.org")
    assert "Choose an office" in client.get("/console/deliverability").get_data(as_text=True)
    page = client.get("/console/deliverability?office=GB").get_data(as_text=True)
    assert "25.00%" in page and 'href="/console/deliverability/suppressions.csv?office=GB"' in page
    assert client.get("/console/deliverability/suppressions.csv?office=GB").status_code == 200
    assert client.get("/console/deliverability/suppressions.csv").status_code == 404  # no office picked
