"""No token, address or name in any log line: gunicorn's, the dev server's, the worker's, an error's."""

import http.client
import io
import json
import re
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mobilise.extensions import db
from mobilise.logs import redact
from mobilise.models import Event
from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .conftest import ROOT, free_port
from .test_stats import links_for

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
REFUSED = "@refused.example"  # the database refuses a supporter at such an address (see `refusing`)


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"User-Agent": PHONE, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def form(**fields) -> tuple[str, dict]:
    from urllib.parse import urlencode

    return urlencode(fields), {"Content-Type": "application/x-www-form-urlencoded"}


@contextmanager
def serving(args, env, folder, name):
    """A real server process on a free loopback port, its output kept in `folder`; yields (port, read)."""
    port = free_port()
    out, err = folder / f"{name}.out", folder / f"{name}.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        # gunicorn's control socket goes under XDG_RUNTIME_DIR: this test's own, beside any other gunicorn.
        process = subprocess.Popen(
            [sys.executable, "-m", *args(port)],
            cwd=ROOT,
            env={**env, "XDG_RUNTIME_DIR": str(folder)},
            stdout=stdout,
            stderr=stderr,
        )
    try:
        for _ in range(1200):  # a minute, for a loaded machine
            try:
                request(port, "GET", "/login")
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"{name} exited: {err.read_text()[-3000:]}")
                time.sleep(0.05)
        yield port, lambda: out.read_text() + err.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def refusing(app):
    """The database refuses any supporter whose address ends in REFUSED, as a real constraint would."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                f"ALTER TABLE supporters ADD CONSTRAINT test_refused CHECK (email NOT LIKE '%%{REFUSED}')"
            )
        else:
            conn.exec_driver_sql(
                f"CREATE TRIGGER test_refused BEFORE INSERT ON supporters WHEN NEW.email LIKE '%{REFUSED}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
    try:
        yield
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("ALTER TABLE supporters DROP CONSTRAINT test_refused")
            else:
                conn.exec_driver_sql("DROP TRIGGER test_refused")


def tampered(token: str) -> str:
    return token[:3] + ("A" if token[3] != "A" else "B") + token[4:]


def secrets_in(lines: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret in lines or secret.replace("@", "%40") in lines]


def test_no_token_address_or_name_in_any_line_of_the_web_or_the_worker(
    app, client, relay, run_jobs, service_env, tmp_path
):
    office = make_office()
    make_supporters(office, 2, last_name="Quennell")
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    person0, person1 = links_for(relay, "person0@gb.example.net"), links_for(relay, "person1@gb.example.net")
    staff = token_for("staff@uk.example.org", office="GB")
    slug = db.session.scalar(db.select(text("slug FROM cases")))
    tokens = [path.rsplit("/", 1)[1].removesuffix(".gif") for path in (*person0.values(), person1["unsubscribe"])]
    secrets = [
        *tokens,
        tampered(tokens[2]),
        staff,
        "person0@gb.example.net",
        "person1@gb.example.net",
        "Quennell",
        "signup@example.net",
        "Signy",
        f"refused{REFUSED}",
        "Refusa",
        "Rowena",
        f"imported{REFUSED}",
        "Importa",
    ]

    with refusing(app):
        gunicorn = lambda port: [
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "app:app",
        ]  # noqa: E731
        with serving(gunicorn, service_env, tmp_path, "gunicorn") as (port, web_log):
            assert (
                request(port, "GET", person0["open"], headers={"Referer": f"http://mobilise.test{person0['act']}"})[0]
                == 200
            )
            assert request(port, "GET", person0["click"])[0] == 302
            assert request(port, "GET", person0["act"])[0] == 200
            assert request(port, "POST", person0["act"])[0] == 200
            assert request(port, "GET", person1["unsubscribe"])[0] == 200
            assert request(port, "POST", person1["unsubscribe"], *form(**{"List-Unsubscribe": "One-Click"}))[0] == 200
            assert request(port, "GET", f"/act/{tampered(tokens[2])}")[0] == 404
            assert request(port, "GET", f"/preferences/{tokens[3]}")[0] in (200, 404)
            assert request(port, "GET", f"/cases/{slug}?office=GB&email=person0@gb.example.net")[0] == 200
            assert (
                request(port, "GET", "/api/v1/offices/GB/supporters?q=person1@gb.example.net", headers=bearer(staff))[0]
                == 200
            )
            assert (
                request(port, "POST", "/subscribe/GB", *form(email="signup@example.net", first_name="Signy"))[0] == 202
            )
            # A sign-up at a refused address writes nothing until it is confirmed (and says the same either way).
            assert (
                request(port, "POST", "/subscribe/GB", *form(email=f"refused{REFUSED}", first_name="Refusa"))[0] == 202
            )
            # The database refuses the row: a 500 whose error, as the driver words it, holds the address and names.
            row = json.dumps([{"email": f"refused{REFUSED}", "first_name": "Refusa", "last_name": "Rowena"}])
            status, _ = request(
                port,
                "POST",
                "/api/v1/offices/GB/supporters",
                row,
                {**bearer(staff), "Content-Type": "application/json"},
            )
            assert status == 500

            # The worker: the sign-up's confirmation, the opens and clicks, and an import the database refuses.
            imported = client.post(
                "/api/v1/offices/GB/imports",
                headers=bearer(staff),
                content_type="multipart/form-data",
                data={"file": (io.BytesIO(f"email,first_name\nimported{REFUSED},Importa\n".encode()), "list.csv")},
            )
            worker = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", "worker", "--burst"],
                cwd=ROOT,
                env=service_env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert worker.returncode == 0, worker.stderr[-3000:]
            message = next(m for m in relay.messages() if m["To"] == "signup@example.net")
            confirm = re.search(
                r"http://mobilise\.test(/confirm/[A-Za-z0-9_.-]+)", message.get_body(("plain",)).get_content()
            ).group(1)
            secrets.append(confirm.rsplit("/", 1)[1])
            assert request(port, "GET", confirm)[0] == 200
            assert request(port, "POST", confirm)[0] == 200
        web = web_log()

    worker_log = worker.stdout + worker.stderr
    # The run was real, and its logs say what happened.
    assert db.session.scalar(db.select(db.func.count(Event.id)).where(Event.kind == "open")) == 1
    for line in (
        '"GET /o/<token> HTTP/1.1" 200',
        '"GET /c/<token> HTTP/1.1" 302',
        '"POST /act/<token> HTTP/1.1" 200',
        '"POST /unsubscribe/<token> HTTP/1.1" 200',
        '"GET /act/<token> HTTP/1.1" 404',
        '"POST /confirm/<token> HTTP/1.1" 200',
        f'"GET /cases/{slug} HTTP/1.1" 200',
        '"POST /api/v1/offices/GB/supporters HTTP/1.1" 500',
        "127.0.0.0/24 - - ",
    ):
        assert line in web, web[-3000:]
    assert "Exception on /api/v1/offices/GB/supporters [POST]" in web and (
        "CheckViolation" in web or "IntegrityError" in web
    ), web[-3000:]
    # The import ends failed, and says so by the error's type alone.
    assert f"import {imported.json['id']} stopped on IntegrityError" in worker_log, worker_log[-3000:]
    assert "127.0.0.1 - -" not in web  # the network, never the address
    assert secrets_in(web, secrets) == []
    assert secrets_in(worker_log, secrets) == []
    assert client.get(f"/api/v1/imports/{imported.json['id']}", headers=bearer(staff)).json["status"] == "failed"


def test_the_dev_server_logs_no_token_and_no_query(app, relay, run_jobs, service_env, tmp_path):
    office = make_office()
    make_supporters(office, 1)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    links = links_for(relay, "person0@gb.example.net")
    flask_run = lambda port: ["flask", "--app", "app", "run", "--port", str(port)]  # noqa: E731
    with serving(flask_run, service_env, tmp_path, "flask-run") as (port, log):
        assert request(port, "GET", links["act"] + "?from=person0@gb.example.net")[0] == 200
        assert request(port, "GET", links["unsubscribe"])[0] == 200
        time.sleep(0.2)
        lines = log()
    assert '"GET /act/<token> HTTP/1.1" 200' in lines and '"GET /unsubscribe/<token> HTTP/1.1" 200' in lines, lines
    tokens = [path.rsplit("/", 1)[1] for path in (links["act"], links["unsubscribe"])]
    assert secrets_in(lines, [*tokens, "person0@gb.example.net", "from="]) == []


def test_a_database_error_carries_no_bound_value(app):
    """SQLAlchemy's error text quotes the statement's parameters unless the engine hides them."""
    with pytest.raises(DBAPIError) as refused:
        db.session.execute(
            text("INSERT INTO supporters (email, first_name, no_such_column) VALUES (:email, :name, 1)"),
            {"email": "hidden@example.net", "name": "Hildegard"},
        )
    db.session.rollback()
    assert "hidden@example.net" not in str(refused.value) and "Hildegard" not in str(refused.value)
    assert "INSERT INTO supporters" in str(refused.value)  # the statement stays: it says where it failed


def test_what_the_redaction_keeps_and_withholds():
    line = (
        "GET /act/WzEsMl0.abcdefghijklmnopqrstuvwxyz0?q=a@b.example HTTP/1.1 "
        "referer http://x.example/page?token=.eJyLNjQwMDA0MDA0MDAAAAgfAik.abcdefghijklmnopqrstuvwxyz0 "
        "bounce+WzEsMl0.abcdefghijklmnopqrstuvwxyz0@in.example.org Bearer mob_0123456789abcdefghijkl"
    )
    assert redact(line) == ("GET /act/<token> HTTP/1.1 referer http://x.example/page <address> Bearer mob_<token>")
    error = (
        '(psycopg.errors.CheckViolation) new row for relation "supporters" violates check constraint "x"\n'
        "DETAIL:  Failing row contains (1, ana@example.org, Ana, García).\n"
        "[SQL: INSERT INTO supporters (email) VALUES (%(email)s)]\n[parameters: {'email': 'ana@example.org'}]"
    )
    assert redact(error) == (
        '(psycopg.errors.CheckViolation) new row for relation "supporters" violates check constraint "x"\n'
        "DETAIL: <withheld>\n"
        "[SQL: INSERT INTO supporters (email) VALUES (%(email)s)]\n[parameters withheld]"
    )
    # A refused row's values can hold line breaks (a postal address): withheld to the statement, all of them.
    multiline = (
        "DETAIL:  Failing row contains (1, ana@example.org, 17 Calle Mayor\nMadrid, García).\n[SQL: UPDATE cases]"
    )
    assert redact(multiline) == "DETAIL: <withheld>\n[SQL: UPDATE cases]"
