"""The links in emails: pixel, clicks, action page, one-click unsubscribe; tampered tokens change nothing."""

import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from mobilise.clock import days_left
from mobilise.extensions import db
from mobilise.models import Action, Event, Supporter
from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters, translated

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"


@pytest.fixture
def email(app, relay, run_jobs):
    """The links of the one launch email that person0 received."""
    office = make_office()
    make_supporters(office, 2)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    message = next(m for m in relay.messages() if m["To"] == "person0@gb.example.net")
    html = message.get_body(("html",)).get_content()
    path = lambda pattern: re.search(pattern, html).group(1)  # noqa: E731
    return {
        "open": path(r'src="http://mobilise\.test(/o/[^"]+)"'),
        "act": path(r'href="http://mobilise\.test(/act/[^"]+)"'),
        "unsubscribe": path(r'href="http://mobilise\.test(/unsubscribe/[^"]+)"'),
        "click": path(r'href="http://mobilise\.test(/c/[^"]+)"'),
    }


def counts():
    return (
        db.session.scalar(db.select(db.func.count(Event.id))),
        db.session.scalar(db.select(db.func.count(Action.id))),
    )


def tampered(path: str) -> str:
    head, token = path.rsplit("/", 1)
    i = 3
    return f"{head}/{token[:i]}{'A' if token[i] != 'A' else 'B'}{token[i + 1 :]}"


def test_the_pixel_answers_a_gif_and_records_the_open(client, email, flush):
    response = client.get(email["open"], headers={"User-Agent": PHONE}, environ_base={"REMOTE_ADDR": "81.2.69.160"})
    assert response.status_code == 200 and response.mimetype == "image/gif"
    assert response.headers["Cache-Control"].startswith("no-store")
    assert db.session.scalar(db.select(db.func.count(Event.id))) == 0  # handed to Redis, not yet written
    assert flush() == 1
    event = db.session.scalar(db.select(Event))
    assert (event.kind, event.machine, event.reason) == ("open", False, "browser")
    assert event.network == "81.2.69.0/24"  # never the whole address


def test_a_privacy_proxy_prefetch_is_a_machine_open(client, email, flush):
    client.get(email["open"], headers={"User-Agent": "Mozilla/5.0"}, environ_base={"REMOTE_ADDR": "17.58.101.4"})
    flush()
    assert db.session.execute(db.select(Event.machine, Event.reason)).one() == (True, "apple-mpp")


def test_a_click_redirects_to_the_case_page_written_in_the_email(client, email, app, flush):
    response = client.get(email["click"], headers={"User-Agent": PHONE})
    flush()
    assert response.status_code == 302
    case_slug = db.session.scalar(db.select(db.text("slug FROM cases")))
    assert (
        response.headers["Location"] == f"http://mobilise.test/cases/{case_slug}?office=GB&lang=en"
    )  # the email's language
    assert db.session.scalar(db.select(Event.kind)) == "click"


def test_a_click_token_cannot_be_bent_into_an_open_redirect(client, email):
    for path in (
        email["click"] + "?next=https://evil.example",
        email["click"] + "%2F%2Fevil.example",
        tampered(email["click"]),
    ):
        response = client.get(path)
        assert response.status_code in (302, 404)
        assert "evil" not in response.headers.get("Location", "")


def test_the_action_page_shows_the_case_and_a_get_records_nothing(client, email):
    page = client.get(email["act"], headers={"User-Agent": PHONE})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    left = days_left(date.today() + timedelta(days=30), "Europe/London")
    for expected in (
        "Cease detentions",
        "Nicolás Maduro",
        "President of the Republic",
        "Palacio de Miraflores",
        "We call for the immediate release of Eduardo Torres.",
        f"{left} days left",
        "I sent my appeal",
        "Copy the letter",
        "Download full UA as PDF",
        "Preferred language to address the target: Spanish.",
    ):
        assert expected in html
    assert counts() == (0, 0)


def test_confirming_records_one_action_however_often_it_is_posted(client, email):
    first = client.post(email["act"])
    assert first.status_code == 200 and "Thank you, Person0" in first.get_data(as_text=True)
    client.post(email["act"])
    assert counts()[1] == 1
    assert "I sent my appeal" not in client.get(email["act"]).get_data(as_text=True)


def test_one_click_unsubscribe_answers_200_and_stops_mail(client, email):
    page = client.get(email["unsubscribe"])
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True)
    assert (
        db.session.scalar(db.select(Supporter.status).where(Supporter.email == "person0@gb.example.net"))
        == "subscribed"
    )
    response = client.post(
        email["unsubscribe"], data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert (
        db.session.scalar(db.select(Supporter.status).where(Supporter.email == "person0@gb.example.net"))
        == "unsubscribed"
    )
    assert (
        db.session.scalar(db.select(Supporter.status).where(Supporter.email == "person1@gb.example.net"))
        == "subscribed"
    )


@pytest.mark.parametrize("kind", ["open", "act", "unsubscribe", "click"])
def test_a_tampered_token_is_a_404_that_changes_nothing(client, email, kind, flush):
    bad = tampered(email[kind])
    before = counts()
    assert client.get(bad).status_code == 404
    if kind in ("act", "unsubscribe"):
        assert client.post(bad).status_code == 404
    assert flush() == 0
    assert counts() == before
    assert db.session.scalar(db.select(db.func.count()).where(Supporter.status == "unsubscribed")) == 0


def test_a_token_of_one_kind_is_not_accepted_as_another(client, email):
    act_token = email["act"].rsplit("/", 1)[1]
    assert client.post(f"/unsubscribe/{act_token}").status_code == 404
    assert client.get(f"/act/{email['unsubscribe'].rsplit('/', 1)[1]}").status_code == 404


def test_the_action_page_is_in_the_supporters_language_when_the_case_has_it(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 1, language="es")
    case = make_case(
        translations=translated("es", title="Cesen las detenciones", model_letter="Pedimos la liberación.")
    )
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    html = relay.messages()[0].get_body(("html",)).get_content()
    act = re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1)
    page = client.get(act).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Cesen las detenciones" in page and "Pedimos la liberación." in page


def french_readers_act_link(relay, run_jobs, *languages: str) -> str:
    """The action link of a launch email to a French reader of a case translated into `languages`, with nothing of
    the email left loaded in the session (as in a fresh request)."""
    office = make_office()
    make_supporters(office, 1, language="fr")
    start_drive(make_case(translations=translated(*languages)), office, {"office": "GB"})
    run_jobs()
    html = relay.messages()[0].get_body(("html",)).get_content()
    db.session.expunge_all()
    return re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1)


@contextmanager
def statements_run():
    """(SQL, execution context) of each statement run inside the block."""
    run = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        run.append((statement, context))

    event.listen(db.engine, "after_cursor_execute", listener)
    try:
        yield run
    finally:
        event.remove(db.engine, "after_cursor_execute", listener)


def test_the_action_page_reads_its_email_in_two_queries_however_many_languages_the_case_has(
    app, client, relay, run_jobs
):
    """Read on every visit from every email of a launch: one query per object it shows would queue behind the send."""
    act = french_readers_act_link(relay, run_jobs, "es", "fr")
    with statements_run() as run:
        page = client.get(act)
    assert page.status_code == 200 and '<html lang="fr">' in page.get_data(as_text=True)
    selects = [statement for statement, _ in run if statement.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects


def test_a_pixel_loaded_300_times_writes_a_bounded_number_of_rows_and_counts_once(app, client, email, flush):
    from mobilise.dashboard.service import case_stats
    from mobilise.models import Case

    from .test_counts import read_an_hour_later

    read_an_hour_later()  # a click seconds after sending is a scanner's
    for _ in range(300):
        assert client.get(email["open"], headers={"User-Agent": PHONE}).status_code == 200
    for _ in range(300):
        assert client.get(email["click"], headers={"User-Agent": PHONE}).status_code == 302
    flush()
    rows = dict(db.session.execute(db.select(Event.kind, db.func.count(Event.id)).group_by(Event.kind)).all())
    # One open a minute (two if the loop straddles a minute); each link's first and last click a minute.
    assert rows["open"] <= 2 and rows["click"] <= 4
    gb = case_stats(db.session.scalar(db.select(Case)))["offices"]["GB"]
    assert (gb["opened"], gb["opened_human"], gb["clicked"]) == (1, 1, 1)


def test_a_machines_prefetch_does_not_hide_the_persons_open_a_moment_later(app, client, email, flush):
    from mobilise.dashboard.service import case_stats
    from mobilise.models import Case

    for _ in range(50):
        client.get(email["open"], headers={"User-Agent": "Mozilla/5.0"}, environ_base={"REMOTE_ADDR": "17.58.101.4"})
    flush()
    client.get(email["open"], headers={"User-Agent": PHONE})  # the same minute, in a later batch
    client.get(email["open"], headers={"User-Agent": PHONE})
    flush()
    assert db.session.scalar(db.select(db.func.count(Event.id))) <= 4
    gb = case_stats(db.session.scalar(db.select(Case)))["offices"]["GB"]
    assert (gb["opened"], gb["opened_human"]) == (1, 1)
