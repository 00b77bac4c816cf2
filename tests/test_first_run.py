"""A newcomer's first run, and the second: the demo's credentials survive, a lost password can be replaced, and
scripts/run stops everything it started."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from flask import g

from mobilise.auth.service import create_staff

from .conftest import ROOT, run_flask
from .test_console import csrf_from

CREDENTIALS = "demo-credentials.txt"


def sign_in(client, email, password):
    """True when the console lets `email` in with `password` (`client`: one not signed in yet)."""
    forget_user()
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(client.get("/login"))}
    )
    return response.status_code == 302 and response.headers["Location"] == "/"


def forget_user():
    """The test holds one app context across requests, so what Flask-Login and Flask-WTF cache in `g` for a request
    (the user, the CSRF token) would outlive it; a browser's next request starts without them."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def test_demo_a_second_time_keeps_the_credentials_and_says_where_they_are(tmp_path, service_env):
    instance = tmp_path / "instance"
    env = dict(service_env, INSTANCE_PATH=str(instance), DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert run_flask(env, "db", "upgrade").returncode == 0
    first = run_flask(env, "demo")
    assert first.returncode == 0, first.stderr
    kept = (instance / CREDENTIALS).read_text()
    assert "admin@demo.example.org password: " in kept and "GB API token: mob_" in kept
    assert kept.strip() in first.stdout

    again = run_flask(env, "demo")
    assert again.returncode == 0, again.stderr
    assert "already has data" in again.stdout and str(instance / CREDENTIALS) in again.stdout
    assert (instance / CREDENTIALS).read_text() == kept


def test_staff_password_replaces_the_old_one_and_ends_its_sessions(app, client, runner):
    create_staff("staff@uk.example.org", admin=True, office_code=None, password="the old password")
    assert sign_in(client, "staff@uk.example.org", "the old password")
    assert client.get("/").status_code == 200

    result = runner.invoke(args=["staff", "password", "Staff@UK.example.org", "--password", "a new password"])
    assert result.exit_code == 0, result.output
    assert "password: " not in result.output  # a password given is not echoed back
    forget_user()
    assert client.get("/").status_code == 302  # the session signed in with the old password has ended
    assert not sign_in(app.test_client(), "staff@uk.example.org", "the old password")
    assert sign_in(app.test_client(), "staff@uk.example.org", "a new password")

    generated = runner.invoke(args=["staff", "password", "staff@uk.example.org"])
    assert generated.exit_code == 0, generated.output
    chosen = generated.output.strip().splitlines()[-1].removeprefix("password: ")
    assert len(chosen) >= 12 and chosen != "a new password"
    assert not sign_in(app.test_client(), "staff@uk.example.org", "a new password")
    assert sign_in(app.test_client(), "staff@uk.example.org", chosen)


def test_staff_password_for_an_unknown_account_fails_clearly(app, runner):
    result = runner.invoke(args=["staff", "password", "nobody@example.org", "--password", "whatever password"])
    assert result.exit_code == 1
    assert "no staff account nobody@example.org" in result.output


# --- scripts/run, as a newcomer starts it: twice, on ports of its own, then stopped --------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_of(instance: Path) -> list[int]:
    """Every live process whose environment names this run's instance folder: what scripts/run started."""
    marker = f"INSTANCE_PATH={instance}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


@pytest.fixture
def run_script(tmp_path):
    """Start scripts/run on free ports with its own instance folder and Redis database; yields a starter."""
    instance = tmp_path / "instance"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "SECRET_KEY", "PUBLIC_BASE_URL", "MAIL_SERVER", "MAIL_PORT", "FLASK_RUN_PORT"}
    }
    env.update(
        INSTANCE_PATH=str(instance),
        PORT=str(free_port()),
        MAIL_CATCHER_PORT=str(free_port()),
        REDIS_URL=os.environ.get("TEST_RUN_REDIS_URL", "redis://127.0.0.1:6379/4"),
        TICK_SECONDS="5",
    )
    # Its own Redis database, emptied first: a job id left by an earlier run must not stand for one of this run's.
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    started = []

    def start():
        log = tmp_path / f"run-{len(started)}.out"
        with log.open("w") as out:
            process = subprocess.Popen(
                [str(ROOT / "scripts" / "run")],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        deadline = time.monotonic() + 90
        while "Mobilise is running on" not in (output := log.read_text()):
            assert process.poll() is None and time.monotonic() < deadline, output
            time.sleep(0.2)
        time.sleep(1)  # the credentials come after that line
        return process, log, f"http://127.0.0.1:{env['PORT']}", instance

    yield start
    for process in started:  # whatever a failed test left: its whole session
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in processes_of(instance):
        os.kill(pid, signal.SIGKILL)


def stopped_cleanly(process, instance, signum) -> bool:
    process.send_signal(signum)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while processes_of(instance) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not processes_of(instance)


def test_scripts_run_twice_on_its_own_ports_keeps_the_credentials_and_leaves_nothing_running(run_script):
    process, log, base, instance = run_script()
    assert len(processes_of(instance)) >= 4  # the script, the web, the worker (and its ticker), the catcher
    assert urllib.request.urlopen(f"{base}/login", timeout=10).status == 200
    credentials = (instance / CREDENTIALS).read_text()
    output = log.read_text()
    running = output.index("Mobilise is running on")
    assert output.index("admin@demo.example.org password: ") > running  # the credentials come last
    assert stopped_cleanly(process, instance, signal.SIGTERM)

    process, log, base, instance = run_script()
    assert urllib.request.urlopen(f"{base}/login", timeout=10).status == 200
    assert (instance / CREDENTIALS).read_text() == credentials
    output = log.read_text()
    assert "already has data" not in output.split("Mobilise is running on")[1]
    for line in credentials.splitlines():
        assert line in output.split("Mobilise is running on")[1]
    assert stopped_cleanly(process, instance, signal.SIGINT)
