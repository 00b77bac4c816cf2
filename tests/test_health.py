"""/healthz and /metrics on the real database, Redis and relay: what is down is named, the figures move with the work."""

import socket
import time
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from mobilise import create_app
from mobilise.clock import utcnow
from mobilise.extensions import db
from mobilise.jobs import enqueue
from mobilise.sending.relays import all_relays
from mobilise.sending.tick import tick
from mobilise.sequences import mailing_state
from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters
from .conftest import POSTGRES_URL, REDIS_URL, free_port

TOKEN = "a-long-random-scrape-token"


def scrape(client, **headers) -> dict:
    """Each sample of /metrics as {(name, (label, value), ...): number}."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain" and "Set-Cookie" not in response.headers
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def sent(figures: dict, office: str = "GB") -> float:
    return figures[("mobilise_emails_sent_total", ("office", office))]


@pytest.fixture
def redis_away(app):
    """The app's Redis swapped for a port where nothing listens."""
    reachable = app.extensions["mobilise.redis"]
    app.extensions["mobilise.redis"] = Redis(port=free_port(), socket_connect_timeout=1)
    yield
    app.extensions["mobilise.redis"] = reachable


def test_healthy_is_200_naming_each_part_kept_by_no_cache_and_without_a_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "redis": "ok"}
    assert response.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in response.headers


def test_redis_away_is_a_503_naming_redis(client, redis_away):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"database": "ok", "redis": "down"}


def test_a_redis_that_never_answers_is_a_503_within_two_seconds(app, client):
    with socket.socket() as silent:  # takes connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        reachable = app.extensions["mobilise.redis"]
        # The app's own client would wait ten seconds, and try again: the check must not.
        app.extensions["mobilise.redis"] = Redis(port=silent.getsockname()[1], socket_timeout=10)
        try:
            started = time.monotonic()
            response = client.get("/healthz")
            assert time.monotonic() - started < 2
            assert response.status_code == 503 and response.json["redis"] == "down"
        finally:
            app.extensions["mobilise.redis"] = reachable


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_database_away_is_a_503_naming_it_and_the_metrics_still_give_redis(backend, tmp_path):
    down = (
        f"sqlite:///{tmp_path}/missing/folder/db.sqlite"
        if backend == "sqlite"
        else POSTGRES_URL.rsplit("@", 1)[0] + f"@127.0.0.1:{free_port()}/nothing"
    )
    app = create_app({"SQLALCHEMY_DATABASE_URI": down, "SECRET_KEY": "test", "REDIS_URL": REDIS_URL})
    client = app.test_client()
    with app.app_context():
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json == {"database": "down", "redis": "ok"}
        figures = scrape(client)
        assert figures[("mobilise_database_up",)] == 0 and figures[("mobilise_redis_up",)] == 1
        assert ("mobilise_queue_length", ("queue", "send")) in figures
        assert not any(name.startswith("mobilise_emails_") for name, *_ in figures)
        db.engine.dispose()


def test_the_emails_of_an_office_move_after_a_send_through_the_relay(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 6)
    relay.refuse["person4@gb.example.net"] = "550 5.1.1 No such user"
    relay.refuse["person5@gb.example.net"] = "450 4.2.0 Mailbox busy, try later"
    before = scrape(client)
    assert (sent(before), before[("mobilise_emails_deferred", ("office", "GB"))]) == (0, 0)

    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()

    after = scrape(client)
    assert len(relay.received) == 4 and sent(after) == 4
    assert after[("mobilise_emails_failed_total", ("office", "GB"))] == 1
    assert after[("mobilise_emails_deferred", ("office", "GB"))] == 1  # waits for its retry
    assert after[("mobilise_database_up",)] == 1


def test_another_office_keeps_its_own_count(app, client, relay, run_jobs):
    gb = make_office()
    make_office(
        code="ES",
        name="Amnistía Internacional España",
        language="es",
        timezone="Europe/Madrid",
        sender="ua@es.example.org",
    )
    make_supporters(gb, 2)
    start_drive(make_case(), gb, {"office": "GB"})
    run_jobs()
    figures = scrape(client)
    assert (sent(figures, "GB"), sent(figures, "ES")) == (2, 0)


def test_a_job_enqueued_is_counted_in_its_queue(app, client):
    assert scrape(client)[("mobilise_queue_length", ("queue", "default"))] == 0
    enqueue("workers.tracking.flush_events", queue_name="default", job_id="flush-events")
    figures = scrape(client)
    assert figures[("mobilise_queue_length", ("queue", "default"))] == 1
    assert figures[("mobilise_queue_length", ("queue", "send"))] == 0


def test_the_age_of_the_last_tick_appears_once_a_tick_has_run(app, client):
    assert not any(name == "mobilise_tick_age_seconds" for name, *_ in scrape(client))
    tick()
    assert 0 <= scrape(client)[("mobilise_tick_age_seconds",)] < 30


def test_relay_pauses_show_the_relay_down_and_the_mailings_paused(app, client, relay):
    office = make_office()
    make_supporters(office, 2)
    drive = start_drive(make_case(), office, {"office": "GB"})
    before = scrape(client)
    assert before[("mobilise_relay_down", ("relay", "default"))] == 0
    assert before[("mobilise_mailings_paused", ("office", "GB"), ("waiting_for", "relay"))] == 0

    all_relays()[0].mark_down("connection refused")
    assert mailing_state.pause(drive.mailings[0].id, "the relay is down", utcnow() + timedelta(minutes=5))

    after = scrape(client)
    assert after[("mobilise_relay_down", ("relay", "default"))] == 1
    assert after[("mobilise_mailings_paused", ("office", "GB"), ("waiting_for", "relay"))] == 1
    assert after[("mobilise_mailings_paused", ("office", "GB"), ("waiting_for", "staff"))] == 0


def test_redis_away_the_metrics_still_answer_with_the_database_figures(app, client, redis_away):
    make_office()
    figures = scrape(client)
    assert figures[("mobilise_redis_up",)] == 0 and figures[("mobilise_database_up",)] == 1
    assert sent(figures) == 0
    assert not any(name == "mobilise_queue_length" for name, *_ in figures)


def test_with_a_metrics_token_only_its_bearer_reads_the_metrics(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and b"mobilise_" not in refused.data, headers
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert ("mobilise_redis_up",) in scrape(client, Authorization=f"Bearer {TOKEN}")
    assert client.get("/healthz").status_code == 200  # a load balancer carries no token
