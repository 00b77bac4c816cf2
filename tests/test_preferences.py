"""The preference page: a supporter chooses fewer emails instead of leaving, and every send obeys the choice.

Through the real send pipeline (real Redis, a real SMTP relay), on SQLite and PostgreSQL; the page by its
links in the emails as sent.
"""

import re
from datetime import date, timedelta

import pytest

from mobilise.clock import utcnow
from mobilise.extensions import db
from mobilise.models import Action, ConsentChange, PreferenceChoice, Preferences, Supporter
from mobilise.sending.tick import tick
from mobilise.sequences import service as sequences
from mobilise.sequences.dispatch import start_drive
from mobilise.tokens import make_token

from .builders import bearer, case_data, make_case, make_office, make_supporters, token_for

BASE = "http://mobilise.test"


def received(relay) -> dict[str, list]:
    """Each recipient's messages, in the order they came; the relay emptied."""
    found: dict[str, list] = {}
    for message in relay.messages():
        found.setdefault(message["To"], []).append(message)
    relay.received.clear()
    return found


def preferences_path(message) -> str:
    html = message.get_body(("html",)).get_content()
    return re.search(rf'href="{BASE}(/preferences/[^"]+)"', html).group(1)


def link(message, kind: str) -> str:
    html = message.get_body(("html",)).get_content()
    return re.search(rf'href="{BASE}(/{kind}/[^"]+)"', html).group(1)


def supporter(email: str) -> Supporter:
    return db.session.scalar(db.select(Supporter).where(Supporter.email == email))


def stored(email: str) -> tuple:
    """Everything the page can change about a supporter, to compare before and after."""
    person = supporter(email)
    db.session.refresh(person)
    row = db.session.get(Preferences, person.id)
    choices = db.session.execute(
        db.select(PreferenceChoice.kind, PreferenceChoice.value).where(PreferenceChoice.supporter_id == person.id)
    ).all()
    history = db.session.scalars(
        db.select(ConsentChange.change).where(ConsentChange.supporter_id == person.id).order_by(ConsentChange.id)
    ).all()
    return (
        person.language,
        person.status,
        row and (row.frequency, row.pause_until),
        sorted(choices),
        list(history),
    )


def first_email(client, run_jobs, relay, office, **case):
    """Launch a case to the office and hand back each recipient's launch email."""
    start_drive(make_case(**case), office, {"office": office.code})
    run_jobs()
    return {to: messages[0] for to, messages in received(relay).items()}


def test_a_supporter_who_chose_only_the_americas_gets_the_venezuela_case_and_not_one_in_asia(
    app, client, relay, run_jobs
):
    office = make_office()
    make_supporters(office, 1, email="ada@example.net")
    make_supporters(office, 1, email="bea@example.net")
    emails = first_email(client, run_jobs, relay, office, country="Venezuela", title="Release Eduardo Torres")
    page = client.post(preferences_path(emails["ada@example.net"]), data={"regions": ["americas"]})
    assert page.status_code == 200 and "Saved." in page.get_data(as_text=True)

    staff = token_for("staff@uk.example.org", office="GB")
    venezuela = make_case(country="Venezuela", title="Free the students of Caracas", reference="UA 60/25")
    myanmar = make_case(country="Myanmar", title="Stop the executions in Yangon", reference="UA 61/25")
    assert (venezuela.region, myanmar.region) == ("americas", "asia-pacific")
    # Before the launch, staff see who the preferences leave out, and why.
    audience = client.get(f"/api/v1/cases/{myanmar.id}/audience?office=GB", headers=bearer(staff)).json
    assert audience["total"] == 1 and audience["left_out"] == {"regions": 1}
    for case in (venezuela, myanmar):
        assert client.post(f"/api/v1/cases/{case.id}/launch", json={"office": "GB"}, headers=bearer(staff)).json[
            "audience"
        ]["left_out"] == ({} if case is venezuela else {"regions": 1})
    run_jobs()

    got = received(relay)
    assert [m["Subject"] for m in got["ada@example.net"]] == ["Urgent Action: Free the students of Caracas"]
    assert sorted(m["Subject"] for m in got["bea@example.net"]) == [
        "Urgent Action: Free the students of Caracas",
        "Urgent Action: Stop the executions in Yangon",
    ]


def test_themes_choose_cases_too_and_a_case_without_them_is_not_one_of_them(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 1, email="ada@example.net")
    emails = first_email(client, run_jobs, relay, office)
    client.post(preferences_path(emails["ada@example.net"]), data={"themes": ["death-penalty"]})
    for title, themes in (
        ("On death row", ["death-penalty", "torture"]),
        ("A blogger held", ["freedom-of-expression"]),
    ):
        start_drive(make_case(title=title, themes=themes), office, {"office": "GB"})
    start_drive(make_case(title="No themes yet"), office, {"office": "GB"})
    run_jobs()
    assert [m["Subject"] for m in received(relay)["ada@example.net"]] == ["Urgent Action: On death row"]


def test_a_paused_supporter_gets_nothing_until_the_date_and_then_the_next_launch(
    app, client, relay, run_jobs, monkeypatch
):
    office = make_office()
    make_supporters(office, 1, email="ada@example.net")
    make_supporters(office, 1, email="bea@example.net")
    emails = first_email(client, run_jobs, relay, office)
    today = date.today()
    answer = client.post(preferences_path(emails["ada@example.net"]), data={"pause": "week"})
    assert answer.status_code == 200
    assert db.session.get(Preferences, supporter("ada@example.net").id).pause_until == today + timedelta(days=7)

    during = make_case(title="While she rests", deadline=(today + timedelta(days=40)).isoformat())
    drive = start_drive(during, office, {"office": "GB"})
    run_jobs()
    assert sorted(received(relay)) == ["bea@example.net"]
    staff = token_for("staff@uk.example.org", office="GB")
    audience = client.get(f"/api/v1/cases/{during.id}/audience?office=GB", headers=bearer(staff)).json
    assert audience["left_out"] == {"paused": 1}

    # The day comes (the office's calendar): the next launch reaches her again.
    later = utcnow() + timedelta(days=7, hours=1)
    monkeypatch.setattr(sequences, "utcnow", lambda: later)
    start_drive(make_case(title="After the break", reference="UA 70/25"), office, {"office": "GB"})
    run_jobs()
    got = received(relay)
    assert [m["Subject"] for m in got["ada@example.net"]] == ["Urgent Action: After the break"]
    assert drive.mailings[0].status == "sent"  # the launch during the pause went, without her


def test_launch_and_last_reminder_only_gets_exactly_those_two_then_the_good_news_once_acted(
    app, client, relay, run_jobs
):
    office = make_office(reminder_days=[7, 2])
    make_supporters(office, 1, email="ada@example.net", first_name="Ada")  # every email
    make_supporters(office, 1, email="lin@example.net", first_name="Lin")  # launch and last only
    welcome = first_email(client, run_jobs, relay, office, title="An earlier case")
    client.post(preferences_path(welcome["lin@example.net"]), data={"frequency": "launch_and_last"})

    admin = token_for("admin@example.org", admin=True)
    staff = token_for("staff@uk.example.org", office="GB")
    case = make_case(title="Release Eduardo Torres", deadline=(date.today() + timedelta(days=20)).isoformat())
    url = f"/api/v1/cases/{case.id}"
    assert client.post(f"{url}/launch", json={"office": "GB"}, headers=bearer(staff)).status_code == 201
    run_jobs()
    seen = {"ada@example.net": [], "lin@example.net": []}

    def collect():
        for to, messages in received(relay).items():
            # The earlier case's own reminders come due in the same ticks: only this case's emails count.
            seen[to] += [m["Subject"].split(":")[0] for m in messages if "Release Eduardo Torres" in m["Subject"]]
        return seen

    launch_emails = {to: messages[0] for to, messages in relay_messages(relay).items()}
    collect()
    client.post(f"{url}/updates", json={"kind": "update", "body": "His family saw him."}, headers=bearer(admin))
    run_jobs()
    new_deadline = (date.today() + timedelta(days=30)).isoformat()
    client.post(f"{url}/updates", json={"kind": "deadline_extended", "deadline": new_deadline}, headers=bearer(admin))
    run_jobs()
    collect()
    planned = [m for m in client.get(f"{url}/schedule", headers=bearer(staff)).json if m["status"] == "planned"]
    assert [m["stage"] for m in planned] == ["reminder", "reminder"]
    for reminder in planned:  # the 7-day reminder, then the 2-day one: the tick at each one's time
        tick(at=_moment(reminder["send_at"]))
        run_jobs()
        collect()
    assert seen["ada@example.net"] == ["Urgent Action", "News", "More time to act", "7 days left", "2 days left"]
    assert seen["lin@example.net"] == ["Urgent Action", "2 days left"]

    # Lin acts from her launch email; the good news reaches her, whatever she chose.
    assert client.post(link(launch_emails["lin@example.net"], "act")).status_code == 200
    client.post(f"{url}/updates", json={"kind": "closed", "outcome": "good_news"}, headers=bearer(admin))
    run_jobs()
    collect()
    assert seen["lin@example.net"] == ["Urgent Action", "2 days left", "Good news"]
    assert seen["ada@example.net"][-1] == "2 days left"  # she did not act: no outcome email


def relay_messages(relay) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in relay.messages():
        found.setdefault(message["To"], []).append(message)
    return found


def _moment(iso_time: str):
    from datetime import datetime

    return datetime.fromisoformat(iso_time.rstrip("Z"))


def test_the_preference_link_is_in_every_email_of_a_case_in_both_parts(app, client, relay, run_jobs):
    office = make_office(reminder_days=[2])
    make_supporters(office, 1, email="ada@example.net")
    admin = token_for("admin@example.org", admin=True)
    case = make_case(deadline=(date.today() + timedelta(days=10)).isoformat())
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    url = f"/api/v1/cases/{case.id}"
    client.post(f"{url}/updates", json={"kind": "update", "body": "News."}, headers=bearer(admin))
    run_jobs()
    new_deadline = (date.today() + timedelta(days=12)).isoformat()
    client.post(f"{url}/updates", json={"kind": "deadline_extended", "deadline": new_deadline}, headers=bearer(admin))
    run_jobs()
    [reminder] = [m for m in client.get(f"{url}/schedule", headers=bearer(admin)).json if m["status"] == "planned"]
    tick(at=_moment(reminder["send_at"]))
    run_jobs()
    db.session.add(Action(case_id=case.id, office_id=office.id, supporter_id=supporter("ada@example.net").id))
    db.session.commit()
    client.post(f"{url}/updates", json={"kind": "closed", "outcome": "good_news"}, headers=bearer(admin))
    run_jobs()
    messages = relay.messages()
    assert [m["Subject"].split(":")[0] for m in messages] == [
        "Urgent Action",
        "News",
        "More time to act",
        "2 days left",
        "Good news",
    ]
    token = r"[A-Za-z0-9_.-]+"
    for message in messages:
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert re.search(rf'href="{BASE}/preferences/{token}"', html), message["Subject"]
        assert re.search(rf"Choose which emails you get\. {BASE}/preferences/{token}", text), message["Subject"]
        # Each email's own link opens the page.
        assert client.get(preferences_path(message)).status_code == 200


def test_saving_records_the_change_in_the_consent_history_and_the_export_and_erasure_follow(
    app, client, relay, run_jobs
):
    office = make_office()
    make_supporters(office, 1, email="ada@example.net")
    path = preferences_path(first_email(client, run_jobs, relay, office)["ada@example.net"])
    until = (date.today() + timedelta(days=20)).isoformat()
    answer = client.post(
        path,
        data={
            "language": "fr",
            "regions": ["americas", "africa"],
            "themes": ["refugees"],
            "frequency": "launch_and_last",
            "pause_until": until,
        },
    )
    assert answer.status_code == 200
    assert '<html lang="fr">' in answer.get_data(as_text=True)  # the page now in the language she chose
    assert (
        client.post(
            path,
            data={
                "language": "fr",
                "regions": ["americas", "africa"],
                "themes": ["refugees"],
                "frequency": "launch_and_last",
                "pause_until": until,
            },
        ).status_code
        == 200
    )

    manager = token_for("manager@uk.example.org", office="GB")
    exported = client.post(
        "/api/v1/offices/GB/supporters/export", json={"email": "ada@example.net"}, headers=bearer(manager)
    ).json
    assert exported["preferences"] | {"changed_at": None} == {
        "regions": ["africa", "americas"],
        "themes": ["refugees"],
        "frequency": "launch_and_last",
        "pause_until": until,
        "changed_at": None,
    }
    [change] = [c for c in exported["consent_history"] if c["change"] == "preferences"]  # saved twice, changed once
    assert change["source"] == "preference page" and change["at"]
    assert change["preferences"] == {
        "language": "fr",
        "regions": ["africa", "americas"],
        "themes": ["refugees"],
        "frequency": "launch_and_last",
        "pause_until": until,
    }
    stats = client.get("/api/v1/offices/GB/preferences", headers=bearer(manager)).json
    assert stats | {"page_since": None, "unsubscribes_by_month": None} == {
        "office": "GB",
        "subscribed": 1,
        "chose_fewer": 1,
        "regions": {"africa": 1, "americas": 1},
        "themes": {"refugees": 1},
        "launch_and_last": 1,
        "paused": 1,
        "page_since": None,
        "unsubscribes_by_month": None,
    }

    person_id = supporter("ada@example.net").id
    client.post("/api/v1/offices/GB/supporters/erase", json={"email": "ada@example.net"}, headers=bearer(manager))
    assert db.session.get(Preferences, person_id) is None
    assert db.session.scalars(db.select(PreferenceChoice).where(PreferenceChoice.supporter_id == person_id)).all() == []
    assert client.get(path).status_code == 404  # nobody left to have preferences


def test_unsubscribes_by_month_before_and_after_the_page(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 2)
    emails = first_email(client, run_jobs, relay, office)
    earlier = supporter("person0@gb.example.net")
    from mobilise.supporters.consent import record_change

    record_change(earlier, "withdrawn", "test", at=office.preferences_since - timedelta(days=1))
    db.session.commit()
    page = client.get(preferences_path(emails["person1@gb.example.net"])).get_data(as_text=True)
    unsubscribe = re.search(r'action="(/unsubscribe/[^"]+)"', page).group(1)
    assert client.post(unsubscribe).status_code == 200  # "unsubscribe from everything", from the page
    assert supporter("person1@gb.example.net").status == "unsubscribed"
    staff = token_for("viewer@uk.example.org", office="GB", role="viewer")
    months = client.get("/api/v1/offices/GB/preferences", headers=bearer(staff)).json["unsubscribes_by_month"]
    assert sum(m["before_page"] for m in months) == 1 and sum(m["after_page"] for m in months) == 1
    assert client.get("/api/v1/offices/ES/preferences", headers=bearer(staff)).status_code == 404


@pytest.mark.parametrize(
    "form",
    [
        {"regions": ["atlantis"]},
        {"themes": ["not-offered"]},
        {"frequency": "daily"},
        {"language": "xx"},
        {"pause_until": "yesterday"},
        {"pause_until": (date.today() - timedelta(days=1)).isoformat()},
        {"pause_until": (date.today() + timedelta(days=400)).isoformat()},
        {"pause": "forever"},
    ],
)
def test_a_choice_the_page_does_not_offer_answers_422_and_changes_nothing(app, client, relay, run_jobs, form):
    office = make_office()
    make_supporters(office, 1, email="ada@example.net")
    path = preferences_path(first_email(client, run_jobs, relay, office)["ada@example.net"])
    before = stored("ada@example.net")
    answer = client.post(path, data=form)
    assert answer.status_code == 422 and 'role="alert"' in answer.get_data(as_text=True)
    assert stored("ada@example.net") == before


def test_tampered_and_unknown_tokens_answer_404_in_the_visitors_language_and_change_nothing(
    app, client, relay, run_jobs
):
    office = make_office()
    make_supporters(office, 1, email="ada@example.net")
    message = first_email(client, run_jobs, relay, office)["ada@example.net"]
    path = preferences_path(message)
    token = path.rsplit("/", 1)[1]
    before = stored("ada@example.net")
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    act_token = link(message, "act").rsplit("/", 1)[1]  # a real token of another purpose
    unsubscribe_token = link(message, "unsubscribe").rsplit("/", 1)[1]
    with app.test_request_context():
        unknown = make_token("preferences", 987654)
    for bad in (tampered, act_token, unsubscribe_token, unknown, "nonsense", token + "x"):
        for method in (client.get, client.post):
            answer = method(
                f"/preferences/{bad}",
                data={"regions": ["africa"], "frequency": "launch_and_last", "pause": "month"},
                headers={"Accept-Language": "es"},
            )
            assert answer.status_code == 404, bad
            assert '<html lang="es">' in answer.get_data(as_text=True)
    assert stored("ada@example.net") == before


def test_a_case_carries_themes_and_a_region_read_from_its_country_in_the_api(app, client):
    admin = token_for("admin@example.org", admin=True)
    made = client.post(
        "/api/v1/cases",
        json=case_data(country="Venezuela", themes=["defenders", "freedom-of-expression", "defenders"]),
        headers=bearer(admin),
    )
    assert made.status_code == 201
    assert (made.json["region"], made.json["themes"]) == ("americas", ["defenders", "freedom-of-expression"])
    url = f"/api/v1/cases/{made.json['id']}"
    changed = client.patch(url, json={"country": "MM", "themes": ["death-penalty"]}, headers=bearer(admin)).json
    assert (changed["region"], changed["themes"]) == ("asia-pacific", ["death-penalty"])
    assert client.get(url, headers=bearer(admin)).json["region"] == "asia-pacific"
    for bad in (["Death Penalty"], ["a" * 51], "defenders", [1]):
        answer = client.patch(url, json={"themes": bad}, headers=bearer(admin))
        assert answer.status_code == 422 and answer.json["details"][0]["field"].startswith("themes"), bad
    assert client.post("/api/v1/cases", json=case_data(region="africa"), headers=bearer(admin)).status_code == 422
    assert client.get(url, headers=bearer(admin)).json["themes"] == ["death-penalty"]


def test_an_office_offers_its_own_themes_on_its_page(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 1, email="ada@example.net")
    manager = token_for("manager@uk.example.org", office="GB")
    answer = client.patch(
        "/api/v1/offices/GB", json={"themes": ["climate-justice", "refugees"]}, headers=bearer(manager)
    )
    assert answer.status_code == 200 and answer.json["themes"] == ["climate-justice", "refugees"]
    page = client.get(preferences_path(first_email(client, run_jobs, relay, office)["ada@example.net"]))
    body = page.get_data(as_text=True)
    assert 'value="climate-justice"' in body and "climate justice" in body and "Refugees and migrants" in body
    assert 'value="death-penalty"' not in body


def test_admins_set_a_cases_country_and_themes_in_the_console(app, client):
    from .test_console import PASSWORD, csrf_from

    token_for("admin@example.org", admin=True)
    case = make_case(country="Narnia")
    client.post(
        "/login",
        data={"email": "admin@example.org", "password": PASSWORD, "csrf_token": csrf_from(client.get("/login"))},
    )
    page = client.get(f"/console/cases/{case.id}")
    assert "none (no country we know)" in page.get_data(as_text=True)
    saved = client.post(
        f"/console/cases/{case.id}/classification",
        data={
            "csrf_token": csrf_from(page),
            "country": "Vénézuéla",
            "themes": ["defenders"],
            "other_themes": "Climate-Justice",
        },
    )
    assert saved.status_code == 303
    db.session.refresh(case)
    assert (case.region, case.themes) == ("americas", ["defenders", "climate-justice"])
    shown = client.get(f"/console/cases/{case.id}").get_data(as_text=True)
    assert "The Americas" in shown and "Human rights defenders, climate justice" in shown
    refused = client.post(
        f"/console/cases/{case.id}/classification",
        data={"csrf_token": csrf_from(page), "country": "VE", "other_themes": "not a word!"},
    )
    assert refused.status_code == 422 and "Not saved" in refused.get_data(as_text=True)
    db.session.refresh(case)
    assert case.themes == ["defenders", "climate-justice"]


def test_office_create_takes_the_themes_its_page_offers(app, runner):
    made = runner.invoke(
        args=[
            *("office", "create", "FR", "--name", "Amnesty France", "--language", "fr"),
            *("--timezone", "Europe/Paris", "--sender", "ua@fr.example.org", "--themes", "refugees, climate-justice"),
        ]
    )
    assert made.exit_code == 0, made.output
    from mobilise.offices.service import get_office

    assert get_office("FR").offered_themes == ["refugees", "climate-justice"]
    refused = runner.invoke(
        args=[
            *("office", "create", "BE", "--name", "Amnesty Belgique", "--language", "fr"),
            *("--timezone", "Europe/Brussels", "--sender", "ua@be.example.org", "--themes", "Not A Word"),
        ]
    )
    assert refused.exit_code != 0 and "themes" in refused.output
