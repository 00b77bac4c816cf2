"""Fixtures on the real services: SQLite and PostgreSQL (schema made by the migrations), Redis, an SMTP relay."""

import functools
import os
import socket
import subprocess
import sys
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from flask_migrate import upgrade
from redis import Redis
from rq import SimpleWorker

import mobilise.auth.service
from mobilise import create_app
from mobilise.extensions import db
from mobilise.jobs import all_queues, redis_connection

# The tests make thousands of accounts, nearly all with one password; scrypt takes a tenth of a second a hash,
# by design. Each distinct password is hashed once, for real: every sign-in still checks a real scrypt hash.
mobilise.auth.service.generate_password_hash = functools.lru_cache(maxsize=256)(
    mobilise.auth.service.generate_password_hash
)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay:
    """A real SMTP server on loopback that keeps what it accepts; `refuse` maps an address to a 5xx reply.
    It offers PIPELINING, as Postfix and the large relays do, unless `pipelining` is False; SMTPUTF8 when
    `smtputf8` is True (aiosmtpd's own, off by default as in many relays)."""

    def __init__(self, pipelining: bool = True, smtputf8: bool = False):
        self.received: list[Envelope] = []
        self.refuse: dict[str, str] = {}
        self.pipelining = pipelining
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=smtputf8)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.received]

    def recipients(self) -> list[str]:
        return sorted(r for e in self.received for r in e.rcpt_tos)


@pytest.fixture(scope="session")
def relay():
    server = Relay()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """One database per backend for the whole run, its schema made by `db upgrade` (the real migrations)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'mobilise.sqlite'}"
    else:
        name = f"mobilise_test_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    if request.param == "postgresql":
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_config(database_url, relay) -> dict:
    return {
        "TESTING": True,
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail suppresses under TESTING; we test the real relay
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": REDIS_URL,
        "PUBLIC_BASE_URL": "http://mobilise.test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": relay.port,
        "SEND_BATCH_SIZE": 3,
    }


@pytest.fixture
def app(database_url, relay):
    app = create_app(test_config(database_url, relay))
    relay.received.clear()
    relay.refuse.clear()
    with app.app_context():
        redis_connection().flushdb()
        yield app
        from mobilise.tracking.events import buffer_for

        buffer_for(app).stop()
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def run_jobs(app):
    """Work every queue until empty, in this process, on the real Redis (RQ's SimpleWorker)."""

    def run(tick: bool = False):
        """`tick`: first run the tick, as a worker does each minute (what has come due is enqueued)."""
        if tick:
            from mobilise.sending.tick import tick as run_tick

            run_tick()
        SimpleWorker(all_queues(), connection=redis_connection()).work(burst=True)

    return run


@pytest.fixture
def service_env(app, relay):
    """The environment a separate process (the real worker, the CLI) needs to reach this test's services."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        SECRET_KEY=app.config["SECRET_KEY"],
        PUBLIC_BASE_URL=app.config["PUBLIC_BASE_URL"],
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(relay.port),
        SEND_BATCH_SIZE="50",
    )
    return env


def run_flask(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def flush(app):
    """Write the opens and clicks waiting in the Redis stream, as the minute job does."""
    from mobilise.tracking.events import flush_events

    return flush_events


@pytest.fixture
def redis_client(app) -> Redis:
    return redis_connection()


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on loopback, for the browser."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, driven by Playwright (its own browser download cannot reach the internet)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture(params=["phone", "desktop"])
def page(request, browser, live_server):
    context = browser.new_context(**(PHONE if request.param == "phone" else DESKTOP))
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    page.device = request.param
    yield page
    context.close()
