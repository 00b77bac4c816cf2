"""The audit trail of the command line: the same services, so the same entries, by "command line" from no network."""

from mobilise.extensions import db
from mobilise.models import AuditEntry, Supporter

from .builders import make_office, make_supporters
from .test_audit import entries, only

OFFICE = [
    "office",
    "create",
    "GB",
    "--name",
    "Amnesty UK",
    "--language",
    "en",
    "--timezone",
    "Europe/London",
    "--sender",
    "ua@uk.example.org",
]


def assert_command_line(entry: AuditEntry, office: str | None):
    assert (entry.actor, entry.staff_id, entry.network) == ("command line", None, None)
    assert (entry.office.code if entry.office else None) == office


def test_an_office_made_at_the_command_line_is_recorded(runner):
    assert runner.invoke(args=OFFICE).exit_code == 0
    assert runner.invoke(args=OFFICE).exit_code != 0  # the code is taken: nothing made, nothing recorded
    entry = only("office.created")
    assert_command_line(entry, "GB")
    assert entry.subject == "office GB"


def test_staff_made_their_token_and_password_at_the_command_line_are_recorded(runner):
    runner.invoke(args=OFFICE)
    assert (
        runner.invoke(args=["staff", "create", "Viewer@UK.example.org", "--office", "GB", "--role", "viewer"]).exit_code
        == 0
    )
    assert runner.invoke(args=["staff", "create", "viewer@uk.example.org", "--office", "GB"]).exit_code != 0  # taken
    token = runner.invoke(args=["staff", "token", "viewer@uk.example.org"])
    assert token.exit_code == 0
    assert runner.invoke(args=["staff", "token", "nobody@example.org"]).exit_code != 0
    assert runner.invoke(args=["staff", "password", "viewer@uk.example.org", "--password", "short"]).exit_code != 0
    assert (
        runner.invoke(
            args=["staff", "password", "viewer@uk.example.org", "--password", "a long new password"]
        ).exit_code
        == 0
    )

    made = only("staff.created")
    assert_command_line(made, "GB")
    assert (made.subject, made.details) == ("viewer@uk.example.org", {"role": "viewer"})
    issued = only("token.created")
    assert_command_line(issued, "GB")
    secret = token.output.strip().splitlines()[-1]
    assert issued.subject == "viewer@uk.example.org" and secret not in str(issued.details)
    changed = only("staff.password_set")
    assert_command_line(changed, "GB")
    assert "a long new password" not in str(changed.details)


def test_an_import_at_the_command_line_is_recorded_with_its_counts(app, runner, tmp_path):
    make_office()
    csv = tmp_path / "list.csv"
    csv.write_text("email,first_name\nana@example.net,Ana\nnot-an-address,Bo\n", encoding="utf-8")
    result = runner.invoke(args=["supporters", "import", str(csv), "--office", "GB"])
    assert result.exit_code == 0, result.output
    entry = only("supporters.imported")
    assert_command_line(entry, "GB")
    assert entry.details == {"created": 1, "updated": 0, "rejected": 1}


def test_an_export_and_an_erasure_at_the_command_line_are_recorded_and_an_unknown_address_is_not(app, runner):
    office = make_office()
    make_supporters(office, 1)
    supporter_id = db.session.scalar(db.select(Supporter.id))
    assert runner.invoke(args=["supporters", "export", "nobody@example.net", "--office", "GB"]).exit_code != 0
    assert runner.invoke(args=["supporters", "erase", "nobody@example.net", "--office", "GB", "--yes"]).exit_code != 0
    assert entries("supporter.exported") == entries("supporter.erased") == []
    assert runner.invoke(args=["supporters", "export", "person0@gb.example.net", "--office", "GB"]).exit_code == 0
    assert (
        runner.invoke(args=["supporters", "erase", "person0@gb.example.net", "--office", "GB", "--yes"]).exit_code == 0
    )
    for action in ("supporter.exported", "supporter.erased"):
        entry = only(action)
        assert_command_line(entry, "GB")
        assert entry.subject == f"supporter {supporter_id}"
