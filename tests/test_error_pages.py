"""The service's own 404, 410 and 500 pages: in the visitor's language, leading on to cases they can act on; a favicon."""

import logging
import re
from datetime import date, timedelta
from html import unescape

import pytest

from mobilise import create_app
from mobilise.extensions import db
from mobilise.models import ConsentChange, Event
from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters, translated
from .conftest import POSTGRES_URL, REDIS_URL, free_port
from .test_signup import confirm_link, person
from .test_tracking import tampered

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}


def live_cases(html: str) -> list[tuple[str, str]]:
    """(href, title) of each live case the page leads to."""
    return [
        (href.replace("&amp;", "&"), title)
        for href, title in re.findall(r'<li><a href="(/cases/[^"]+)"[^>]*>([^<]+)</a>', html)
    ]


@pytest.fixture
def two_offices(app):
    """GB and ES each run a drive of their own case; GB's case reads in French too. A closed case and a drive
    whose deadline has passed are not live."""
    gb = make_office()
    spain = make_office(
        code="ES",
        name="Amnistía Internacional España",
        language="es",
        timezone="Europe/Madrid",
        sender="ua@es.example.org",
    )
    british = make_case(title="Free the students", translations=translated("fr", title="Libérez les étudiants"))
    spanish = make_case(
        title="Stop the executions",
        reference="UA 9/26",
        translations=translated("es", title="Detengan las ejecuciones"),
    )
    start_drive(british, gb, {"office": "GB"})
    start_drive(spanish, spain, {"office": "ES"})
    closed = make_case(title="A closed case", reference="UA 1/20")
    start_drive(closed, gb, {"office": "GB"})
    closed.status = "closed"
    past = make_case(title="A case past its deadline", reference="UA 2/20")
    start_drive(past, gb, {"office": "GB"}).deadline = date.today() - timedelta(days=3)
    db.session.commit()
    return british, spanish


def test_a_broken_link_is_a_404_in_the_visitors_language_leading_to_every_offices_live_cases(client, two_offices):
    british, spanish = two_offices
    answer = client.get("/cases/ua-53-25-cease-deten", headers=FRENCH)  # a link cut short
    html = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert '<html lang="fr">' in html
    assert "<h1>Nous n'avons pas trouvé cette page</h1>" in html
    assert "Not Found" not in html
    # The French title where the case has one, its own title elsewhere; each link opens the page in that language.
    assert live_cases(html) == [
        (f"/cases/{spanish.slug}?office=ES&lang=en", "Stop the executions"),
        (f"/cases/{british.slug}?office=GB&lang=fr", "Libérez les étudiants"),
    ]
    assert 'lang="en">Stop the executions' in html  # a title in another language than the page says so
    assert answer.headers["Cache-Control"].startswith("no-store")


def test_a_url_naming_an_office_leads_to_that_offices_live_cases_in_its_language(client, two_offices):
    british, _ = two_offices
    answer = client.get("/cases/no-such-case?office=gb")  # no Accept-Language: the office's language
    html = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 404 and '<html lang="en">' in html
    assert '<header class="band">Amnesty UK</header>' in html
    assert "Live cases from Amnesty UK" in html
    assert live_cases(html) == [(f"/cases/{british.slug}?office=GB", "Free the students")]
    assert 'href="/subscribe/GB"' in html
    spanish = unescape(client.get("/cases/no-such-case?office=ES", headers=FRENCH).get_data(as_text=True))
    assert "Les cas en cours d'Amnistía Internacional España" in spanish  # French elides "de" before a vowel


def test_at_most_five_live_cases_newest_first(client, app):
    office = make_office()
    cases = [make_case(title=f"Case number {n}", reference=f"UA {n}/26") for n in range(7)]
    for case in cases:
        start_drive(case, office, {"office": "GB"})
    titles = [title for _, title in live_cases(client.get("/nowhere").get_data(as_text=True))]
    assert titles == [f"Case number {n}" for n in (6, 5, 4, 3, 2)]


def email_links(relay, run_jobs):
    office = make_office()
    make_supporters(office, 1, language="es")
    start_drive(make_case(translations=translated("es")), office, {"office": "GB"})
    run_jobs()
    html = relay.messages()[0].get_body(("html",)).get_content()
    found = lambda pattern: re.search(pattern, html).group(1)  # noqa: E731
    return {
        "act": found(r'href="http://mobilise\.test(/act/[^"]+)"'),
        "unsubscribe": found(r'href="http://mobilise\.test(/unsubscribe/[^"]+)"'),
        "click": found(r'href="http://mobilise\.test(/c/[^"]+)"'),
        "open": found(r'src="http://mobilise\.test(/o/[^"]+)"'),
    }


def test_a_tampered_email_link_is_the_404_page_and_changes_nothing(app, client, relay, run_jobs, flush):
    links = email_links(relay, run_jobs)
    for kind in ("act", "unsubscribe", "click"):
        for method in (client.get, client.post) if kind != "click" else (client.get,):
            answer = method(tampered(links[kind]), headers={"Accept-Language": "es"})
            html = unescape(answer.get_data(as_text=True))
            assert answer.status_code == 404, kind
            assert "<h1>No encontramos esta página</h1>" in html, kind
            assert len(live_cases(html)) == 1, kind
    assert client.get("/confirm/not-a-token").status_code == 404
    assert "No encontramos esta página" in client.get("/confirm/x.y", headers={"Accept-Language": "es"}).get_data(
        as_text=True
    )
    pixel = client.get(tampered(links["open"]))
    assert pixel.status_code == 404 and pixel.data == b""  # an image: no page
    flush()
    assert db.session.scalar(db.select(db.func.count(Event.id))) == 0


def test_an_expired_confirmation_link_is_a_410_that_says_how_to_sign_up_again(app, client, relay, run_jobs):
    make_office()
    client.post("/subscribe/GB", data={"email": "ana@example.org", "language": "fr"})
    run_jobs()
    _, link = confirm_link(relay, "ana@example.org")
    assert client.get(link).status_code == 200
    request = db.session.scalar(db.select(ConsentChange).where(ConsentChange.change == "requested"))
    request.at -= timedelta(days=15)
    db.session.commit()
    for answer in (client.get(link), client.post(link)):
        html = unescape(answer.get_data(as_text=True))
        assert answer.status_code == 410
        assert '<html lang="fr">' in html  # the language the sign-up asked for
        assert "<h1>Ce lien n'est plus valable</h1>" in html
        assert "Ce lien a expiré, ou un e-mail plus récent l'a remplacé." in html
        assert '<a class="button" href="/subscribe/GB">M\'inscrire à nouveau</a>' in html
    assert person("ana@example.org").status == "pending"  # nothing confirmed


def test_a_superseded_confirmation_link_is_a_410(app, client, relay, run_jobs):
    make_office()
    client.post("/subscribe/GB", data={"email": "ana@example.org"})
    run_jobs()
    _, first = confirm_link(relay, "ana@example.org")
    for change in db.session.scalars(db.select(ConsentChange)):  # two hours ago: a new request may be emailed
        change.at -= timedelta(hours=2)
    db.session.commit()
    relay.received.clear()
    client.post("/subscribe/GB", data={"email": "ana@example.org"})
    run_jobs()
    _, newest = confirm_link(relay, "ana@example.org")
    assert client.post(first).status_code == 410
    assert person("ana@example.org").status == "pending"
    assert client.post(newest).status_code == 200 and person("ana@example.org").status == "subscribed"


def test_the_api_keeps_its_json_errors(client, app):
    answer = client.get("/api/v1/no-such-call")
    assert answer.status_code == 404 and answer.is_json and "error" in answer.json


def test_a_server_error_is_the_services_page_without_the_error_or_anyone_s_data(app, client, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error is answered, not raised in the test

    @app.get("/explode")
    def explode():
        raise RuntimeError("ana@example.org could not be saved")

    with caplog.at_level(logging.ERROR):
        answer = client.get("/explode", headers={"Accept-Language": "de-DE,de;q=0.9"})
    html = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 500
    assert '<html lang="de">' in html and "<h1>Bei uns ist etwas schiefgelaufen</h1>" in html
    assert "ana@example.org" not in html and "Traceback" not in html and "RuntimeError" not in html
    assert "Exception on /explode [GET]" in caplog.text  # logged as before


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_error_pages_show_when_the_database_is_down(backend, tmp_path):
    """A database that does not answer: the 500 page makes no query, the 404 page shows without its live cases."""
    down = (
        f"sqlite:///{tmp_path}/missing/folder/db.sqlite"
        if backend == "sqlite"
        else POSTGRES_URL.rsplit("@", 1)[0] + f"@127.0.0.1:{free_port()}/nothing"
    )
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": down, "SECRET_KEY": "test", "REDIS_URL": REDIS_URL, "PROPAGATE_EXCEPTIONS": False}
    )
    client = app.test_client()
    with app.app_context():
        failed = client.get("/cases/some-case", headers={"Accept-Language": "it"})  # the page's own query fails
        assert failed.status_code == 500
        assert "<h1>Si è verificato un problema da parte nostra</h1>" in failed.get_data(as_text=True)
        missing = client.get("/nowhere?office=GB", headers={"Accept-Language": "it"})
        assert missing.status_code == 404
        assert "<h1>Non abbiamo trovato questa pagina</h1>" in missing.get_data(as_text=True)
        assert live_cases(missing.get_data(as_text=True)) == []
        db.engine.dispose()


def test_the_favicon_is_an_icon_kept_in_the_browsers_cache(client, app):
    make_office()
    case = make_case()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "max-age=604800" in icon.headers["Cache-Control"] and "public" in icon.headers["Cache-Control"]
    for page in (f"/cases/{case.slug}?office=GB", "/login", "/nowhere"):
        assert '<link rel="icon" href="/favicon.ico"' in client.get(page).get_data(as_text=True), page
