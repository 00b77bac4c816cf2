"""The staff console through HTTP: sign-in, throttling, CSRF, headers, office scoping, and each action's two steps."""

import re

import pytest

from mobilise.extensions import db
from mobilise.models import Drive, Mailing, Supporter

from .builders import make_case, make_office, make_supporters, token_for

SPAIN = {
    "code": "ES",
    "name": "Amnistía España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "a@es.example.org",
}
PASSWORD = "correct horse battery"


def csrf_from(response) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', response.get_data(as_text=True)).group(1)


def hidden_fields(response) -> dict:
    """What the confirmation page's form sends back: every hidden input, in the order a browser takes them."""
    fields = {}
    for tag in re.findall(r"<input[^>]+>", response.get_data(as_text=True)):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)
            fields.setdefault(name, re.search(r'value="([^"]*)"', tag).group(1))
    return fields


def sign_in(client, email):
    token = csrf_from(client.get("/login"))
    return client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})


def post_form(client, url, data):
    """Submit a console form as a browser would: read its CSRF token from the page first."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**data, "csrf_token": csrf_from(page)})


@pytest.fixture
def two_offices(app):
    gb, es = make_office(), make_office(**SPAIN)
    make_supporters(gb, 3)
    make_supporters(es, 2)
    token_for("staff@uk.example.org", office="GB")
    token_for("staff@es.example.org", office="ES")
    token_for("admin@example.org", admin=True)
    return gb, es


def test_signed_out_visitors_are_sent_to_sign_in(client, two_offices):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/console/queues").status_code == 302


def test_sign_in_wrong_then_right_then_out(client, two_offices):
    wrong = client.post(
        "/login",
        data={"email": "staff@uk.example.org", "password": "nope", "csrf_token": csrf_from(client.get("/login"))},
    )
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.get_data(as_text=True)
    right = sign_in(client, "staff@uk.example.org")
    assert right.status_code == 302 and right.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Amnesty UK" in home.get_data(as_text=True)
    cookie = right.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    client.post("/logout", data={"csrf_token": csrf_from(home)})
    assert client.get("/").status_code == 302


def test_a_login_link_cannot_send_staff_to_another_site(client, two_offices):
    token = csrf_from(client.get("/login"))
    response = client.post(
        "/login?next=//evil.example/x",
        data={"email": "staff@uk.example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_repeated_failures_are_throttled(client, two_offices):
    token = csrf_from(client.get("/login"))
    codes = [
        client.post(
            "/login", data={"email": "staff@uk.example.org", "password": f"guess{n}", "csrf_token": token}
        ).status_code
        for n in range(6)
    ]
    assert codes == [401] * 5 + [429]
    assert (
        client.post(
            "/login", data={"email": "staff@uk.example.org", "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 429
    )


def test_a_form_without_its_csrf_token_is_refused(client, two_offices):
    case = make_case()
    sign_in(client, "staff@uk.example.org")
    response = client.post(f"/console/cases/{case.id}/launch", data={"office": "GB", "confirm": "yes"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Drive.id))) == 0
    assert client.post("/login", data={"email": "staff@uk.example.org", "password": PASSWORD}).status_code == 400


def test_every_page_sends_security_headers(client, two_offices):
    sign_in(client, "staff@uk.example.org")
    for path in ("/login", "/", "/console/queues", "/console/supporters/"):
        headers = client.get(path).headers
        assert (
            "default-src 'self'" in headers["Content-Security-Policy"]
            and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        )
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"


def test_an_office_cannot_open_another_offices_counts_supporters_or_actions(client, two_offices):
    gb, es = two_offices
    case = make_case()
    spanish = db.session.scalar(db.select(Supporter).where(Supporter.office_id == es.id))
    sign_in(client, "staff@uk.example.org")
    assert client.get(f"/console/cases/{case.id}").status_code == 200
    assert client.get(f"/console/cases/{case.id}?office=ES").status_code == 404
    assert client.get(f"/console/cases/{case.id}/stats.csv?office=ES").status_code == 404
    assert client.get(f"/console/supporters/{spanish.id}").status_code == 404
    assert client.get("/console/supporters/?q=es.example").get_data(as_text=True).count("es.example.net") == 0
    assert client.get(f"/console/cases/{case.id}/update").status_code == 403  # admins only: a role below it


def test_launch_shows_the_email_and_the_audience_then_sends_only_on_yes(client, two_offices, run_jobs, relay):
    case = make_case()
    sign_in(client, "staff@uk.example.org")
    url = f"/console/cases/{case.id}/launch"
    confirm = post_form(client, url, {"office": "GB", "tags": "", "deadline": ""})
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "to <strong>3</strong> subscribed supporters" in page
    assert "Yes, send it to 3 supporters" in page
    assert db.session.scalar(db.select(db.func.count(Drive.id))) == 0  # nothing yet
    preview = client.get(f"/console/cases/{case.id}/preview/launch?office=GB")
    assert "sandbox" in preview.headers["Content-Security-Policy"] and "Cease detentions" in preview.get_data(
        as_text=True
    )

    assert 'name="confirm" type="hidden" value="yes"' in page
    done = client.post(url, data={**hidden_fields(confirm), "csrf_token": csrf_from(confirm)})
    assert done.status_code == 302
    run_jobs()
    assert len(relay.received) == 3


def test_a_launch_with_no_audience_says_so_before_sending(client, two_offices):
    case = make_case()
    sign_in(client, "staff@uk.example.org")
    response = post_form(client, f"/console/cases/{case.id}/launch", {"office": "GB", "tags": "nobody-has-this"})
    assert "the launch would reach no one" in response.get_data(as_text=True)
    bad_date = post_form(client, f"/console/cases/{case.id}/launch", {"office": "GB", "deadline": "2020-01-01"})
    assert "This date has passed." in bad_date.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Drive.id))) == 0


def test_a_launch_by_language_shows_its_audience_size_first(client, two_offices, run_jobs, relay):
    gb, _ = two_offices
    db.session.get(
        Supporter, db.session.scalar(db.select(Supporter.id).where(Supporter.office_id == gb.id))
    ).language = "fr"
    db.session.commit()
    case = make_case()
    sign_in(client, "staff@uk.example.org")
    url = f"/console/cases/{case.id}/launch"
    bad = post_form(client, url, {"office": "GB", "languages": "french"})
    assert "Language codes are two or three letters" in bad.get_data(as_text=True)
    confirm = post_form(client, url, {"office": "GB", "languages": "fr"})
    page = confirm.get_data(as_text=True)
    assert "to <strong>1</strong> subscribed supporters" in page and "reading French" in page
    client.post(url, data={**hidden_fields(confirm), "csrf_token": csrf_from(confirm)})
    run_jobs()
    assert len(relay.received) == 1


def update_page_of_a_case_launched_by_both(client, offices, run_jobs, relay, **case_fields) -> str:
    """An admin signed in, on the update page of a case both offices launched (their launch emails sent)."""
    from mobilise.sequences.dispatch import start_drive

    case = make_case(**case_fields)
    for office in offices:
        start_drive(case, office, {"office": office.code})
    run_jobs()
    relay.received.clear()
    sign_in(client, "admin@example.org")
    return f"/console/cases/{case.id}/update"


def test_an_admin_posts_an_update_after_seeing_how_many_it_reaches(client, two_offices, run_jobs, relay):
    url = update_page_of_a_case_launched_by_both(client, two_offices, run_jobs, relay)
    empty = post_form(client, url, {"body": ""})
    assert "This field is required." in empty.get_data(as_text=True)
    confirm = post_form(client, url, {"body": "Eduardo was moved."})
    assert "to <strong>5</strong> supporters" in confirm.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Mailing.id)).where(Mailing.stage == "update")) == 0
    client.post(url, data=hidden_fields(confirm))
    run_jobs()
    assert len(relay.received) == 5


def test_counts_export_as_csv(client, two_offices, run_jobs):
    from mobilise.sequences.dispatch import start_drive

    gb, _ = two_offices
    case = make_case()
    start_drive(case, gb, {"office": "GB"})
    run_jobs()
    sign_in(client, "staff@uk.example.org")
    response = client.get(f"/console/cases/{case.id}/stats.csv")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("scope,office,stage,audience,send_at,status,recipients,sent")
    assert lines[1].startswith("total,,,,,,3,3")
    assert any(line.startswith("mailing,GB,launch,all,") for line in lines)


def test_queue_health(client, two_offices):
    sign_in(client, "staff@uk.example.org")
    page = client.get("/console/queues").get_data(as_text=True)
    for name in ("dispatch", "send", "default"):
        assert f'<th scope="row">{name}</th>' in page
    assert "nothing is being sent" in page  # no worker runs during this test
    assert "No minute tick has run yet" in page


def test_the_queues_page_shows_a_relay_down_and_how_long_ago_the_tick_ran(
    app, client, two_offices, run_jobs, redis_client
):
    from mobilise.sending.relays import all_relays
    from mobilise.sending.tick import LAST_TICK

    sign_in(client, "staff@uk.example.org")
    run_jobs(tick=True)
    page = client.get("/console/queues").get_data(as_text=True)
    assert re.search(r"The last minute tick ended \d+ seconds ago", page)
    assert "<td>up</td>" in page

    all_relays()[0].mark_down("connection refused by 127.0.0.1")
    redis_client.set(LAST_TICK, str(float(redis_client.get(LAST_TICK)) - 600))  # as if no worker had ticked since
    page = client.get("/console/queues").get_data(as_text=True)
    assert "The last minute tick ended 10 minutes ago" in page and "Are the workers running?" in page
    assert re.search(
        r"<strong class=\"bad\">down</strong> until \d\d:\d\d:\d\d UTC: connection refused by 127.0.0.1", page
    )


def test_a_paused_email_says_why_on_the_case_page_and_staff_resume_it_there(app, client, run_jobs):
    from mobilise.sequences.dispatch import start_drive
    from mobilise.sequences.mailing_state import pause

    office = make_office()
    make_supporters(office, 2)
    token_for("staff@uk.example.org", office="GB")
    case = make_case()
    mailing = start_drive(case, office, {"office": "GB"}).mailings[0]
    pause(mailing.id, "the relay refused 50 of the last 60 emails (the last: 550 no such user)", None)

    sign_in(client, "staff@uk.example.org")
    page = client.get(f"/console/cases/{case.id}")
    text = page.get_data(as_text=True)
    assert "Paused:</strong> the relay refused 50 of the last 60 emails" in text and "Resume sending" in text

    resumed = client.post(
        f"/console/mailings/{mailing.id}/resume", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert "The email is sending again." in resumed.get_data(as_text=True)
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == "sent"
    assert client.post(f"/console/mailings/{mailing.id}/resume", data={}).status_code == 400


def test_an_update_written_in_two_languages_in_the_console_reaches_each_reader_in_theirs(
    client, two_offices, run_jobs, relay
):
    from .builders import translated

    # ES's two supporters read the office's Spanish.
    url = update_page_of_a_case_launched_by_both(client, two_offices, run_jobs, relay, translations=translated("es"))
    form = client.get(url).get_data(as_text=True)
    assert 'name="body_es"' in form and "The same words in Spanish" in form
    unworded = post_form(client, url, {"body": "Eduardo was moved."})
    assert "readers of that language get this email wholly in English" in unworded.get_data(as_text=True)
    confirm = post_form(client, url, {"body": "Eduardo was moved.", "body_es": "Trasladaron a Eduardo."})
    assert "Your words are not given" not in confirm.get_data(as_text=True)
    client.post(url, data=hidden_fields(confirm))
    run_jobs()
    texts = {m["To"]: m.get_body(("plain",)).get_content() for m in relay.messages()}
    spanish = [text for address, text in texts.items() if address.endswith("@es.example.net")]
    assert len(spanish) == 2 and all("Trasladaron a Eduardo." in t and "Eduardo was moved" not in t for t in spanish)
    assert all("Eduardo was moved." in t for address, t in texts.items() if address.endswith("@gb.example.net"))
