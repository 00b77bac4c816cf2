"""A visitor of the public case page acts, confirms from the email, and is counted once, through the real relay."""

import re
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from mobilise.auth.models import Staff
from mobilise.auth.service import issue_token
from mobilise.clock import utcnow
from mobilise.extensions import db
from mobilise.models import Action, ConsentChange, Supporter, VisitorAction
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for, translated
from .leaks import english_leaks, visible_text
from .test_stats import links_for

LINK = re.compile(r"http://mobilise\.test(/cases/[^/\s]+/actions/[A-Za-z0-9._-]+)")


def launched(**case_fields):
    office = make_office()
    case = make_case(**case_fields)
    start_drive(case, office, {"office": "GB"})
    return office, case


def act(client, case, data, *, network="198.51.100.23", query="office=GB"):
    return client.post(f"/cases/{case.slug}/actions?{query}", data=data, environ_base={"REMOTE_ADDR": network})


def email_to(relay, address):
    return next(m for m in relay.messages() if m["To"] == address)


def link_in(message):
    return LINK.search(message.get_body(("plain",)).get_content()).group(1)


def stats(client, case):
    """The stats API as an admin reads it (the account made on first use)."""
    if db.session.scalar(db.select(Staff.id).where(Staff.email == "admin@example.org")) is None:
        token_for("admin@example.org", admin=True)
    admin = issue_token("admin@example.org")
    return client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(admin)).json


def person(email):
    return db.session.scalar(db.select(Supporter).where(Supporter.email == email))


def visitor_rows():
    return db.session.scalars(db.select(VisitorAction)).all()


def test_a_visitor_acts_confirms_from_the_email_and_counts_once(app, client, relay, run_jobs):
    office, case = launched()
    run_jobs()  # the launch: nobody on the list yet
    answer = act(client, case, {"email": " Visitor@Example.org ", "first_name": "Zoë"})
    assert answer.status_code == 202 and "Check your inbox" in answer.get_data(as_text=True)
    run_jobs()

    message = email_to(relay, "visitor@example.org")
    assert message["From"] == "Amnesty UK <ua@uk.example.org>" and message["Reply-To"] == "help@uk.example.org"
    assert re.fullmatch(r"<visitor-action\.\d+@uk\.example\.org>", message["Message-ID"])
    assert message["Subject"] == "Confirm your action: Amnesty UK"
    html = message.get_body(("html",)).get_content()
    assert '<html lang="en">' in html and "Cease detentions and attacks on defenders" in html
    assert "Zoë" not in message.get_body(("plain",)).get_content()  # nothing typed but the address goes out
    link = link_in(message)
    assert person("visitor@example.org") is None  # no list row: they did not tick to join

    page = client.get(link)  # a mail scanner following the link confirms nothing
    assert page.status_code == 200 and "Confirm my action" in page.get_data(as_text=True)
    assert stats(client, case)["offices"]["GB"]["acted"] == 0

    done = client.post(link)
    assert done.status_code == 200 and "Thank you: your action counts" in done.get_data(as_text=True)
    counts = stats(client, case)
    assert counts["offices"]["GB"]["acted"] == counts["totals"]["acted"] == 1
    assert counts["actions_by_day"] == [{"date": str(utcnow().date()), "office": "GB", "actions": 1}]

    assert client.post(link).status_code == 200  # a second tap
    assert stats(client, case)["offices"]["GB"]["acted"] == 1
    assert person("visitor@example.org") is None and db.session.scalar(db.select(db.func.count(Action.id))) == 0
    (row,) = visitor_rows()
    assert (row.email, row.first_name, row.network) == (None, "", "198.51.100.0/24")  # the address served its turn


def test_the_same_visitor_confirming_a_second_request_later_counts_once(app, client, relay, run_jobs):
    _, case = launched()
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    first = link_in(email_to(relay, "visitor@example.org"))
    db.session.execute(db.update(VisitorAction).values(requested_at=utcnow() - timedelta(hours=2)))  # past the hour
    db.session.commit()
    relay.received.clear()
    act(client, case, {"email": "visitor@example.org"}, network="203.0.113.9")
    run_jobs()
    second = link_in(email_to(relay, "visitor@example.org"))
    assert first != second
    client.post(first)
    client.post(second)
    assert stats(client, case)["offices"]["GB"]["acted"] == 1


@pytest.mark.parametrize("join", ["", "yes"])
def test_confirmations_sent_at_the_same_moment_count_once(app, client, relay, run_jobs, live_server, join):
    """A double tap on a slow phone, or two tabs: several POSTs of one link at once, over real HTTP and threads."""
    _, case = launched()
    act(client, case, {"email": "visitor@example.org", "join": join})
    run_jobs()
    url = live_server + link_in(email_to(relay, "visitor@example.org"))
    start = threading.Barrier(4)

    def tap(_):
        start.wait()
        with urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=30) as answer:
            return answer.status

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(tap, range(4))) == [200] * 4
    db.session.expire_all()
    assert stats(client, case)["offices"]["GB"]["acted"] == 1
    assert db.session.scalar(db.select(db.func.count(Action.id))) == (1 if join else 0)


def test_a_visitor_counted_alone_who_later_joins_keeps_one_count_and_gets_the_action(app, client, relay, run_jobs):
    _, case = launched()
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    client.post(link_in(email_to(relay, "visitor@example.org")))
    db.session.execute(db.update(VisitorAction).values(requested_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    relay.received.clear()
    act(client, case, {"email": "visitor@example.org", "join": "yes"}, network="203.0.113.9")
    run_jobs()
    client.post(link_in(email_to(relay, "visitor@example.org")))
    joined = person("visitor@example.org")
    assert joined.status == "subscribed"
    (action,) = db.session.scalars(db.select(Action)).all()  # now known as a supporter: not_acted mail skips them
    assert action.supporter_id == joined.id
    counts = stats(client, case)
    assert counts["offices"]["GB"]["acted"] == 1 and counts["actions_by_day"][0]["actions"] == 1


def test_erasing_a_supporter_erases_their_waiting_request_to_act(app, client, relay, run_jobs):
    _, case = launched()
    act(client, case, {"email": "lucia@example.org", "first_name": "Lucía", "join": "yes"})
    run_jobs()
    link = link_in(email_to(relay, "lucia@example.org"))
    admin = token_for("staff-admin@example.org", admin=True)
    erased = client.post(
        "/api/v1/offices/GB/supporters/erase", json={"email": "lucia@example.org"}, headers=bearer(admin)
    )
    assert erased.status_code == 200
    (row,) = visitor_rows()
    assert (row.email, row.first_name, row.network) == (None, "", None)
    assert client.post(link).status_code == 410  # nothing left to confirm with
    assert person("lucia@example.org") is None and stats(client, case)["offices"]["GB"]["acted"] == 0


def test_the_console_counts_a_visitors_action(app, client, relay, run_jobs):
    from mobilise.auth.service import create_staff

    from .test_console import PASSWORD, sign_in

    _, case = launched()
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    client.post(link_in(email_to(relay, "visitor@example.org")))
    create_staff("staff@uk.example.org", admin=False, office_code="GB", password=PASSWORD)
    sign_in(client, "staff@uk.example.org")
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'Cease detentions.*?<td class="num">1</td>', home, re.S)
    page = client.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert '<li class="acted"><span class="n">1</span> acted</li>' in page


def test_a_supporter_who_acted_from_an_email_is_not_counted_again_from_the_page(app, client, relay, run_jobs):
    office, case = launched()
    make_supporters(office, 1, email="ana@example.org")  # on the list when the launch takes its audience
    run_jobs()
    client.post(links_for(relay, "ana@example.org")["act"])  # Ana acts from the launch email
    assert stats(client, case)["offices"]["GB"]["acted"] == 1

    relay.received.clear()
    act(client, case, {"email": "ANA@example.org"})
    run_jobs()
    client.post(link_in(email_to(relay, "ana@example.org")))
    assert stats(client, case)["offices"]["GB"]["acted"] == 1
    assert db.session.scalar(db.select(db.func.count(Action.id))) == 1


def test_a_visitor_counted_before_joining_the_list_who_then_acts_from_an_email_counts_once(
    app, client, relay, run_jobs
):
    office, case = launched()
    run_jobs()
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    client.post(link_in(email_to(relay, "visitor@example.org")))
    make_supporters(office, 1, email="visitor@example.org")  # staff add them later, from a petition
    admin = token_for("staff-admin@example.org", admin=True)
    client.post(f"/api/v1/cases/{case.id}/updates", json={"kind": "update", "body": "News."}, headers=bearer(admin))
    relay.received.clear()
    run_jobs()
    client.post(links_for(relay, "visitor@example.org")["act"])
    counts = stats(client, case)
    assert counts["offices"]["GB"]["acted"] == 1 and counts["actions_by_day"][0]["actions"] == 1
    assert [m["acted"] for m in counts["mailings"] if m["stage"] == "update"] == [1]  # the email they acted from
    assert db.session.scalar(db.select(db.func.count(Action.id))) == 1


def test_a_supporter_acting_from_the_page_gets_their_action_and_counts_once(app, client, relay, run_jobs):
    office, case = launched()
    make_supporters(office, 1, email="ana@example.org")
    act(client, case, {"email": "ana@example.org"})
    run_jobs()
    client.post(link_in(email_to(relay, "ana@example.org")))
    (action,) = db.session.scalars(db.select(Action)).all()
    assert (action.supporter_id, action.source, action.delivery_id) == (person("ana@example.org").id, "page", None)
    assert stats(client, case)["offices"]["GB"]["acted"] == 1


def test_keep_me_informed_makes_a_pending_supporter_subscribed_by_the_confirming_click(app, client, relay, run_jobs):
    _, case = launched(translations=translated("es"))
    act(client, case, {"email": "lucia@example.org", "first_name": "Lucía", "join": "yes"}, query="office=GB&lang=es")
    assert person("lucia@example.org").status == "pending"
    run_jobs()
    assert relay.recipients() == ["lucia@example.org"]  # one email: the action's link is also the opt-in
    message = email_to(relay, "lucia@example.org")
    assert message["Subject"] == "Confirma tu acción: Amnesty UK"
    assert '<html lang="es">' in message.get_body(("html",)).get_content()
    link = link_in(message)
    page = client.get(link).get_data(as_text=True)
    assert "Confirmar mi acción" in page and "lista de Amnesty UK" in page
    assert person("lucia@example.org").status == "pending"

    client.post(link, environ_base={"REMOTE_ADDR": "198.51.100.80"})
    lucia = person("lucia@example.org")
    assert (lucia.status, lucia.first_name, lucia.language) == ("subscribed", "Lucía", "es")
    steps = db.session.execute(
        db.select(ConsentChange.change, ConsentChange.source, ConsentChange.network)
        .where(ConsentChange.supporter_id == lucia.id)
        .order_by(ConsentChange.id)
    ).all()
    assert steps == [
        ("requested", "case page", "198.51.100.0/24"),
        ("confirmed", "case page: confirmation link in the email", "198.51.100.0/24"),
    ]
    assert stats(client, case)["offices"]["GB"]["acted"] == 1
    run_jobs(tick=True)
    assert relay.recipients() == ["lucia@example.org"]  # the sign-up tick sends no second email for her request


def test_one_confirmation_an_hour_per_address_across_visitor_actions_and_sign_ups(app, client, relay, run_jobs):
    _, case = launched()
    assert act(client, case, {"email": "visitor@example.org"}).status_code == 202
    again = act(client, case, {"email": "visitor@example.org"}, network="203.0.113.9")
    signup = client.post(
        "/subscribe/GB", data={"email": "visitor@example.org"}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert again.status_code == signup.status_code == 202
    assert "Check your inbox" in again.get_data(as_text=True)
    run_jobs()
    assert relay.recipients() == ["visitor@example.org"]
    assert len(visitor_rows()) == 1 and person("visitor@example.org") is None

    relay.received.clear()
    client.post("/subscribe/GB", data={"email": "joiner@example.org"}, environ_base={"REMOTE_ADDR": "192.0.2.8"})
    act(client, case, {"email": "joiner@example.org"}, network="192.0.2.9")  # a sign-up first: the page waits too
    run_jobs()
    assert relay.recipients() == ["joiner@example.org"] and len(visitor_rows()) == 1


def test_the_form_is_throttled_per_network(app, client):
    _, case = launched()
    codes = [act(client, case, {"email": f"p{n}@example.org"}).status_code for n in range(7)]
    assert codes[:5] == [202] * 5 and codes[5:] == [429, 429]


def test_a_bot_filling_the_honeypot_is_answered_like_a_person_and_ignored(app, client, relay, run_jobs):
    _, case = launched()
    bot = act(client, case, {"email": "bot@example.org", "website": "http://spam.example"})
    person_answer = act(client, case, {"email": "someone@example.org"}, network="203.0.113.1")
    assert bot.status_code == 202 and bot.get_data(as_text=True) == person_answer.get_data(as_text=True)
    run_jobs()
    assert relay.recipients() == ["someone@example.org"] and len(visitor_rows()) == 1


def test_a_bad_address_shows_the_form_again_with_the_error_and_stores_nothing(app, client):
    _, case = launched()
    answer = act(client, case, {"email": "not an address", "first_name": "Ana", "join": "yes"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'aria-invalid="true" aria-describedby="visitor-email-error"' in html
    assert "Enter an email address such as name@example.org." in html and 'value="Ana"' in html
    assert act(client, case, {"first_name": "Ana"}).status_code == 422  # no address at all
    assert visitor_rows() == [] and db.session.scalar(db.select(db.func.count(Supporter.id))) == 0


def test_unknown_cases_offices_and_undriven_cases_are_404(app, client):
    _, case = launched()
    make_office(code="ES", name="España", language="es", timezone="Europe/Madrid", sender="a@es.example.org")
    assert act(client, case, {"email": "a@example.org"}, query="office=ES").status_code == 404  # ES did not launch it
    assert act(client, case, {"email": "a@example.org"}, query="office=XX").status_code == 404
    assert act(client, case, {"email": "a@example.org"}, query="").status_code == 404
    assert client.post("/cases/no-such-case/actions?office=GB", data={"email": "a@example.org"}).status_code == 404
    assert visitor_rows() == []


def test_a_tampered_link_is_404_and_changes_nothing(app, client, relay, run_jobs):
    _, case = launched()
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    link = link_in(email_to(relay, "visitor@example.org"))
    assert client.post(link[:-3] + "xyz").status_code == 404
    assert client.get(link[:-3] + "xyz").status_code == 404
    other = make_case(reference="UA 9/26", title="Another case")
    assert client.post(link.replace(case.slug, other.slug)).status_code == 404  # the token names another case
    assert client.post(f"/cases/{case.slug}/actions/not-a-token").status_code == 404
    assert stats(client, case)["offices"]["GB"]["acted"] == 0 and visitor_rows()[0].confirmed_at is None


def test_an_old_link_has_expired_and_counts_nothing(app, client, relay, run_jobs):
    _, case = launched()
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    link = link_in(email_to(relay, "visitor@example.org"))
    db.session.execute(db.update(VisitorAction).values(requested_at=utcnow() - timedelta(days=15)))
    db.session.commit()
    for answer in (client.get(link), client.post(link)):
        html = answer.get_data(as_text=True)
        assert answer.status_code == 410 and "<h1>This link is no longer valid</h1>" in html  # the service's 410 page
        assert "Fill in the form on the case page again" in html and 'class="links live-cases"' in html
    assert stats(client, case)["offices"]["GB"]["acted"] == 0
    run_jobs(tick=True)  # the tick forgets the address it kept for the link
    assert visitor_rows()[0].email is None


def test_a_closed_case_takes_no_request_and_its_links_count_nothing(app, client, relay, run_jobs):
    _, case = launched()
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    link = link_in(email_to(relay, "visitor@example.org"))
    admin = token_for("staff-admin@example.org", admin=True)
    assert client.post(
        f"/api/v1/cases/{case.id}/updates",
        json={"kind": "closed", "outcome": "no_further_action"},
        headers=bearer(admin),
    ).status_code in (200, 201)
    closed = act(client, case, {"email": "late@example.org"}, network="203.0.113.5")
    assert closed.status_code == 409 and "This case is closed" in closed.get_data(as_text=True)
    answer = client.post(link)
    assert answer.status_code == 410 and "This case is closed" in answer.get_data(as_text=True)
    assert stats(client, case)["offices"]["GB"]["acted"] == 0 and len(visitor_rows()) == 1


def test_the_case_page_carries_the_form_only_for_a_live_case_with_an_office(app, client):
    _, case = launched()
    with_office = client.get(f"/cases/{case.slug}?office=GB").get_data(as_text=True)
    assert f'action="/cases/{case.slug}/actions?office=GB&amp;lang=en"' in with_office
    assert 'inputmode="email"' in with_office and 'name="join" type="checkbox" value="yes">' in with_office
    assert "/actions?" not in client.get(f"/cases/{case.slug}").get_data(as_text=True)


def test_a_recount_keeps_the_visitors_actions(app, client, relay, run_jobs, runner):
    _, case = launched()
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    client.post(link_in(email_to(relay, "visitor@example.org")))
    before = stats(client, case)
    assert runner.invoke(args=["stats", "recount", "--case", str(case.id)]).exit_code == 0
    db.session.expire_all()
    after = stats(client, case)
    assert after["offices"] == before["offices"] and after["actions_by_day"] == before["actions_by_day"]


def _journey(client, relay, run_jobs, case, language, email):
    """The pages and the email a visitor reading `language` meets, as what a reader sees of each."""
    sent = act(
        client,
        case,
        {"email": email, "join": "yes"},
        query=f"office=GB&lang={language}",
        network=f"192.0.2.{len(email)}",
    )
    run_jobs()
    message = email_to(relay, email)
    link = link_in(message)
    html = message.get_body(("html",)).get_content()
    assert f'<html lang="{language}">' in html
    parts = [message["Subject"], message.get_body(("plain",)).get_content(), visible_text(html)]
    for answer in (sent, client.get(link), client.post(link)):
        page = answer.get_data(as_text=True)
        assert f'<html lang="{language}">' in page
        parts.append(visible_text(page))
    return "\n".join(parts)


@pytest.mark.parametrize("language", ["es", "fr", "de", "pt", "it"])
def test_the_email_and_pages_are_wholly_in_the_visitors_language(app, client, relay, run_jobs, language):
    office, case = launched(translations=translated("es", "fr", "de", "pt", "it"))
    english = _journey(client, relay, run_jobs, case, "en", "reader@example.org")
    other = _journey(client, relay, run_jobs, case, language, "lector@example.org")
    names = [office.name, *office.postal_address.splitlines(), case.reference]
    assert english_leaks(english, other, names) == []


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_a_visitor_acts_from_the_public_page_on_a_phone(app, relay, run_jobs, live_server, page):
    _, case = launched()
    page.goto(f"{live_server}/cases/{case.slug}?office=GB")
    page.get_by_label("Email address").first.wait_for()
    form = page.locator("form", has=page.locator("#visitor-email"))
    form.get_by_label("Email address").fill("phone@example.org")
    form.get_by_label("First name").fill("Zoë")
    assert not form.get_by_role("checkbox").is_checked()
    form.screenshot(path="tests/screenshots/visitor-action-form-phone.png")
    form.get_by_role("button", name="I sent my appeal: email me the link to confirm").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    run_jobs()
    page.goto(live_server + link_in(email_to(relay, "phone@example.org")))
    page.get_by_role("button", name="Confirm my action").click()
    page.get_by_role("status").filter(has_text="Your action on this case is counted for Amnesty UK.").wait_for()
    page.screenshot(path="tests/screenshots/visitor-action-phone.png", full_page=True)
    from mobilise.counts.models import DriveCounts

    db.session.expire_all()
    assert db.session.scalar(db.select(DriveCounts.acted)) == 1


def test_a_request_erased_before_its_email_went_out_is_not_handed_out_again(app, client, relay, run_jobs):
    """Erased while its email waited (a relay down, a queue behind): no job for it every minute for 14 days."""
    from mobilise.supporters.visitors import unemailed_requests

    _, case = launched()
    act(client, case, {"email": "lucia@example.org", "first_name": "Lucía", "join": "yes"})  # its job not run yet
    admin = token_for("staff-admin@example.org", admin=True)
    client.post("/api/v1/offices/GB/supporters/erase", json={"email": "lucia@example.org"}, headers=bearer(admin))
    assert unemailed_requests(utcnow() - timedelta(days=14)) == []


def test_the_export_of_a_supporter_holds_their_requests_to_act_from_the_case_page(app, client, relay, run_jobs):
    """Export is everything held on the person: a request to act keeps their address, name and network until it is
    confirmed, and its times and network after."""
    _, case = launched()
    act(client, case, {"email": "lucia@example.org", "first_name": "Lucía", "join": "yes"})
    run_jobs()
    admin = token_for("staff-admin@example.org", admin=True)
    held = client.post(
        "/api/v1/offices/GB/supporters/export", json={"email": "lucia@example.org"}, headers=bearer(admin)
    ).json
    (request,) = held["requests_to_act"]
    assert request["case"] == case.reference and request["first_name"] == "Lucía"
    assert request["network"] == "198.51.100.0/24" and request["confirmed_at"] is None and request["requested_at"]
    client.post(link_in(email_to(relay, "lucia@example.org")))
    held = client.post(
        "/api/v1/offices/GB/supporters/export", json={"email": "lucia@example.org"}, headers=bearer(admin)
    ).json
    (request,) = held["requests_to_act"]
    assert request["confirmed_at"] and request["first_name"] == ""


def test_a_tampered_link_leads_to_the_live_cases_of_the_office_it_was_for(app, client, relay, run_jobs):
    """The contract: a tampered token answers 404 on a page that leads to the office's live cases."""
    office, case = launched()
    other = make_office(
        code="ES",
        name="Amnistía Internacional España",
        language="es",
        timezone="Europe/Madrid",
        sender="ua@es.example.org",
    )
    start_drive(make_case(reference="UA 9/26", title="Another office's case"), other, {"office": "ES"})
    act(client, case, {"email": "visitor@example.org"})
    run_jobs()
    text = email_to(relay, "visitor@example.org").get_body(("plain",)).get_content()
    link = re.search(r"http://mobilise\.test(/cases/\S+/actions/\S+)", text).group(1)
    path, _, query = link.partition("?")
    assert query == "office=GB"
    answer = client.get(f"{path[:-3]}xyz?{query}", headers={"Accept-Language": "es"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404 and "Casos abiertos de Amnesty UK" in html
    assert "Another office" not in html
    assert client.post(link).status_code == 200  # the link itself still confirms
