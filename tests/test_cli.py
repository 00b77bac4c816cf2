"""The command line of the contract, as an operator types it."""

from mobilise.extensions import db
from mobilise.models import Case, Office, Supporter

from .conftest import run_flask


def test_db_upgrade_creates_the_schema_from_nothing_and_demo_fills_it(tmp_path, service_env):
    # Its own instance folder: demo writes its credentials there, and a checkout's own must not be touched.
    env = dict(service_env, DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite'}", INSTANCE_PATH=str(tmp_path))
    upgrade = run_flask(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    demo = run_flask(env, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "3 offices (GB, ES, FR), 360 supporters" in demo.stdout
    assert "admin API token: mob_" in demo.stdout
    # GB's staff in each office role: the manager, a campaigner and a viewer, each with a password and a token.
    assert "staff@uk.example.org (GB) password: " in demo.stdout
    assert (
        "campaigner@uk.example.org (GB campaigner) password: " in demo.stdout
        and "GB campaigner API token: mob_" in demo.stdout
    )
    assert "viewer@uk.example.org (GB viewer) password: " in demo.stdout and "GB viewer API token: mob_" in demo.stdout
    kept = (tmp_path / "demo-credentials.txt").read_text()
    assert "viewer@uk.example.org (GB viewer) password: " in kept
    again = run_flask(env, "demo")
    assert again.returncode == 0 and "already has data" in again.stdout


def test_office_create_with_every_option(app, runner):
    result = runner.invoke(
        args=[
            "office",
            "create",
            "fr",
            "--name",
            "Amnesty France",
            "--language",
            "fr",
            "--timezone",
            "Europe/Paris",
            "--sender",
            "actions@fr.example.org",
            "--sender-name",
            "Amnesty France",
            "--reply-to",
            "contact@fr.example.org",
            "--address",
            "76 bd de la Villette\\n75019 Paris",
            "--send-hour",
            "9",
            "--reminder-days",
            "10,3,1",
        ]
    )
    assert result.exit_code == 0, result.output
    office = db.session.scalar(db.select(Office))
    assert (office.code, office.send_hour, office.reminder_days) == ("FR", 9, [10, 3, 1])
    assert office.postal_address == "76 bd de la Villette\n75019 Paris"


def test_office_create_refuses_bad_input_clearly(app, runner):
    result = runner.invoke(
        args=[
            "office",
            "create",
            "GB",
            "--name",
            "UK",
            "--language",
            "en",
            "--timezone",
            "Europe/Londres",
            "--sender",
            "not-an-email",
        ]
    )
    assert result.exit_code != 0
    assert "timezone" in result.output and "sender" in result.output
    assert db.session.scalar(db.select(db.func.count(Office.id))) == 0


def test_staff_create_prints_a_password_and_token_prints_it_alone_on_the_last_line(app, runner):
    runner.invoke(
        args=[
            "office",
            "create",
            "GB",
            "--name",
            "UK",
            "--language",
            "en",
            "--timezone",
            "Europe/London",
            "--sender",
            "ua@uk.example.org",
        ]
    )
    created = runner.invoke(args=["staff", "create", "Staff@UK.example.org", "--office", "GB"])
    assert created.exit_code == 0 and "password: " in created.output
    token = runner.invoke(args=["staff", "token", "staff@uk.example.org"]).output.strip().splitlines()[-1]
    assert token.startswith("mob_") and " " not in token
    from mobilise.models import ApiToken

    assert db.session.scalar(db.select(ApiToken.token_hash)) != token  # stored hashed
    both = runner.invoke(args=["staff", "create", "x@example.org", "--admin", "--office", "GB"])
    assert both.exit_code != 0 and "either --admin or" in both.output
    unknown = runner.invoke(args=["staff", "token", "nobody@example.org"])
    assert unknown.exit_code != 0


def test_demo_refuses_a_database_with_data(app, runner):
    runner.invoke(
        args=[
            "office",
            "create",
            "GB",
            "--name",
            "UK",
            "--language",
            "en",
            "--timezone",
            "Europe/London",
            "--sender",
            "ua@uk.example.org",
        ]
    )
    result = runner.invoke(args=["demo"])
    assert "already has data" in result.output
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Case.id))) == 0


def test_dispatch_rejects_a_bad_instant(app, runner):
    result = runner.invoke(args=["dispatch", "--at", "next tuesday"])
    assert result.exit_code != 0 and "ISO-8601" in result.output
