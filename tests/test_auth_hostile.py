"""Sign-in and sign-out against someone trying: a login link that leads elsewhere, a session cookie kept after
signing out or after a password change, a sign-out forced from another site."""

from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from .builders import make_office, token_for
from .test_console import PASSWORD, csrf_from, sign_in

STAFF = "staff@uk.example.org"

# Known open-redirect payloads, as the `next` argument arrives once decoded. Browsers drop tabs and newlines
# inside a URL, read a backslash as a slash and `//host` as a host, so each of these can lead to evil.example.
ELSEWHERE = [
    "//evil.example",
    "//evil.example/x",
    "///evil.example",
    "////evil.example",
    "//evil.example@mobilise.test",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    "\n//evil.example",
    " //evil.example",
    "/ /evil.example",
    "/\x0b/evil.example",
    "/\x0c/evil.example",
    "/\x7f/evil.example",
    "/\u3000/evil.example",
    "/\u200b/evil.example",
    "/\u202e/evil.example",
    "/\ufeff/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "\\/\\/evil.example",
    "https://evil.example",
    "HTTPS://evil.example",
    "http:evil.example",
    "http:/evil.example",
    "https:///evil.example",
    "//evil.example/%2F..",
    "/\t\\evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "@evil.example",
    "?next=//evil.example",
    "/\r\nSet-Cookie: taken=1",
    "/" + "a" * 5000,
]
# Pages of this site, which a login link may lead back to.
HERE = [
    "/",
    "/console/queues",
    "/console/supporters/?q=ana%40example.org",
    "/console/cases/1?office=GB",
    "/@evil.example",
]


class Browser(FlaskClient):
    """Each request in its own app context, as in production: no signed-in user or database session is left
    over from an earlier request (the `app` fixture's context is shared by every request otherwise)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def staff(app):
    make_office()
    token_for(STAFF, office="GB")
    app.test_client_class = Browser
    return STAFF


@pytest.fixture
def client(app, staff):
    return app.test_client()


def signed_in_to(app, target: str):
    client = app.test_client()  # a fresh browser each time: a signed-in one is sent home whatever `next` says
    token = csrf_from(client.get("/login"))
    return client.post(
        f"/login?next={quote(target, safe='')}", data={"email": STAFF, "password": PASSWORD, "csrf_token": token}
    )


def test_a_login_link_never_leads_to_another_site(app, staff):
    answers = {target: signed_in_to(app, target) for target in ELSEWHERE}
    # Sent to the console's home, or (a NUL, with the app-wide guard) refused: never elsewhere, never a 500.
    led_away = {
        t: (a.status_code, a.headers.get("Location"))
        for t, a in answers.items()
        if not (a.status_code == 302 and a.headers["Location"] == "/")
    }
    assert led_away == {}


def test_a_login_link_with_a_control_character_is_not_a_server_error(app, staff):
    client = app.test_client()
    token = csrf_from(client.get("/login"))
    answer = client.post("/login?next=/%0d/x", data={"email": STAFF, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_a_login_link_leads_back_to_the_page_of_this_site_that_asked(app, staff):
    assert {target: signed_in_to(app, target).headers["Location"] for target in HERE} == {
        target: target for target in HERE
    }


def saved_session(client) -> str:
    return client.get_cookie("session").value


def browser_with(app, cookie: str):
    """Another browser holding a copy of the session cookie (taken from a shared computer, a proxy's log...)."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_session_saved_before_signing_out_is_refused_after_it(app, client, staff):
    sign_in(client, STAFF)
    copy = saved_session(client)
    assert browser_with(app, copy).get("/").status_code == 200  # the copy works while the session lives

    client.post("/logout", data={"csrf_token": csrf_from(client.get("/"))})

    refused = browser_with(app, copy).get("/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302
    assert sign_in(client, STAFF).headers["Location"] == "/"  # signing in again works
    assert client.get("/").status_code == 200


def test_a_password_change_ends_the_sessions_signed_in_before(app, client, runner, staff):
    sign_in(client, STAFF)
    copy = saved_session(client)
    assert browser_with(app, copy).get("/").status_code == 200

    changed = runner.invoke(args=["staff", "password", STAFF, "--password", "a new long passphrase"])
    assert changed.exit_code == 0, changed.output

    assert browser_with(app, copy).get("/").headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302
    assert sign_in(client, STAFF).status_code == 401  # the old password no longer works
    token = csrf_from(client.get("/login"))
    new = client.post("/login", data={"email": STAFF, "password": "a new long passphrase", "csrf_token": token})
    assert new.status_code == 302 and client.get("/").status_code == 200


def test_the_password_command_refuses_an_unknown_account_and_a_short_password(app, runner, staff):
    assert runner.invoke(args=["staff", "password", "nobody@example.org", "--password", "long enough"]).exit_code != 0
    short = runner.invoke(args=["staff", "password", STAFF, "--password", "short"])
    assert short.exit_code != 0 and "8 characters" in short.output


def test_the_password_command_without_a_password_makes_one_and_prints_it(app, client, runner, staff):
    made = runner.invoke(args=["staff", "password", STAFF])
    assert made.exit_code == 0, made.output
    chosen = made.output.strip().splitlines()[-1].removeprefix("password: ")
    assert len(chosen) >= 12
    token = csrf_from(client.get("/login"))
    signed_in = client.post("/login", data={"email": STAFF, "password": chosen, "csrf_token": token})
    assert signed_in.status_code == 302 and client.get("/").status_code == 200


def test_a_link_to_logout_asks_and_does_not_sign_out(app, client, staff):
    sign_in(client, STAFF)
    page = client.get("/logout")  # what an <img src=".../logout"> on another site makes the browser do
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert client.get("/logout", follow_redirects=False).status_code == 200


def test_a_sign_out_without_the_pages_csrf_token_is_refused(app, client, staff):
    sign_in(client, STAFF)
    copy = saved_session(client)
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 200
    assert browser_with(app, copy).get("/").status_code == 200  # nothing was ended


def test_the_sign_out_page_signs_out_with_its_own_button(app, client, staff):
    sign_in(client, STAFF)
    page = client.get("/logout")
    done = client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert client.get("/logout").headers["Location"] == "/login"  # signed out already: nothing to ask


def test_a_session_from_before_sessions_had_versions_is_refused(app, client, staff):
    """A cookie naming the account alone (as sessions did before) no longer signs anyone in."""
    sign_in(client, STAFF)
    with client.session_transaction() as session:
        session["_user_id"] = session["_user_id"].split(":")[0]
    assert client.get("/").headers["Location"].startswith("/login")


def test_an_oversized_sign_in_is_a_clean_400(app, client, staff):
    token = csrf_from(client.get("/login"))
    long_email = client.post(
        "/login", data={"email": "a" * 5000 + "@example.org", "password": PASSWORD, "csrf_token": token}
    )
    long_password = client.post("/login", data={"email": STAFF, "password": "p" * 5000, "csrf_token": token})
    assert long_email.status_code == long_password.status_code == 400
    assert "Sign in" in long_email.get_data(as_text=True)
