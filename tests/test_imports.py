"""CSV imports through the CLI, the API (run by a worker) and the console: bad rows reported by line, good rows in."""

import io
import signal
import subprocess
import sys
import time

from mobilise.extensions import db
from mobilise.models import Supporter
from mobilise.supporters.models import ImportPart

from .builders import bearer, make_office, make_supporters, token_for
from .conftest import ROOT, run_flask
from .test_console import csrf_from, sign_in

# Written with the troubles real spreadsheets have. Physical lines: the header is 1; the row for
# "multi" spans lines 4-5 because of the newline inside its quoted name.
NASTY = (
    "\ufeffEmail;First_Name;last_name;language;tags;consent_source\r\n"  # BOM, mixed-case header, ; delimiter
    "ana@example.org;Ana;García;es;students;petition\r\n"  # 2
    "bad-address;Bob;;;;\r\n"  # 3: rejected
    '"multi@example.org";"Line\nBreak";"O\'Brien, ""Jr""";fr;"a;b";\r\n'  # 4-5
    ";Nobody;;;;\r\n"  # 6: rejected, no email
    "ANA@Example.org;Ana María;;;;\r\n"  # 7: the same person again: an update
    "yulia@example.org;Юлия;Иванова;ru;;\r\n"  # 8
    "li@example.org;李;娜;zh;;\r\n"  # 9
    "\r\n"  # 10: an empty line is skipped
    "zed@example.org;Zed;;xx-yy-zz;;\r\n"  # 11: rejected, not a language code
)


def test_the_cli_imports_the_good_rows_and_reports_the_bad_ones_by_line(app, runner, tmp_path):
    office = make_office()
    make_supporters(office, 1, email="li@example.org", first_name="Old")
    path = tmp_path / "list.csv"
    path.write_bytes(NASTY.encode("utf-8"))
    result = runner.invoke(args=["supporters", "import", str(path), "--office", "GB"])
    assert result.exit_code == 0, result.output
    assert "created 3, updated 2, rejected 3" in result.output  # ana, multi, yulia; li (already there) and ana again
    report = result.output.strip().splitlines()[-1].split(": ", 1)[1]
    with open(report, encoding="utf-8") as rejected:
        lines = rejected.read().splitlines()
    assert [line.split(",")[0] for line in lines] == ["line", "3", "6", "11"]

    people = {s.email: s for s in db.session.scalars(db.select(Supporter))}
    assert set(people) == {"ana@example.org", "multi@example.org", "yulia@example.org", "li@example.org"}
    assert (people["ana@example.org"].first_name, people["ana@example.org"].last_name) == ("Ana María", "García")
    assert people["multi@example.org"].first_name == "Line\nBreak"
    assert people["multi@example.org"].last_name == 'O\'Brien, "Jr"'
    assert people["multi@example.org"].tags == ["a", "b"]
    assert (people["yulia@example.org"].first_name, people["li@example.org"].first_name) == ("Юлия", "李")
    assert people["ana@example.org"].consent_source == "petition"


def test_a_file_in_an_encoding_that_cannot_be_told_is_refused_whole(app, runner, tmp_path):
    make_office()
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,first_name\njose@example.org,José\nnina@example.org,Niña\n".encode("latin-1"))
    result = runner.invoke(args=["supporters", "import", str(path), "--office", "GB"])
    assert result.exit_code != 0 and "nothing imported" in result.output and "UTF-8" in result.output
    assert db.session.scalar(db.select(db.func.count(Supporter.id))) == 0
    no_email = tmp_path / "no-email.csv"
    no_email.write_text("name\nJosé\n", encoding="utf-8")
    result = runner.invoke(args=["supporters", "import", str(no_email), "--office", "GB"])
    assert result.exit_code != 0 and "no 'email' column" in result.output


def test_the_api_import_runs_in_a_worker_and_reports_progress(app, client, run_jobs):
    make_office()
    make_office(code="ES", name="España", language="es", timezone="Europe/Madrid", sender="a@es.example.org")
    staff = token_for("staff@uk.example.org", office="GB")
    spain = token_for("staff@es.example.org", office="ES")
    response = client.post(
        "/api/v1/offices/GB/imports",
        headers=bearer(staff),
        data={"file": (io.BytesIO(NASTY.encode("utf-8")), "list.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    import_id = response.json["id"]
    assert client.get(f"/api/v1/imports/{import_id}", headers=bearer(staff)).json["status"] == "queued"
    run_jobs()
    status = client.get(f"/api/v1/imports/{import_id}", headers=bearer(staff)).json
    assert (status["status"], status["created"], status["updated"], status["rejected"]) == ("done", 4, 1, 3)
    assert [e["line"] for e in status["errors"]] == [3, 6, 11]
    assert client.get(f"/api/v1/imports/{import_id}", headers=bearer(spain)).status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(ImportPart)) == 0  # the upload is not kept
    missing = client.post(
        "/api/v1/offices/GB/imports", headers=bearer(staff), data={}, content_type="multipart/form-data"
    )
    assert missing.status_code == 400


def test_the_console_uploads_a_csv_and_shows_its_progress(app, client, run_jobs):
    make_office()
    token_for("staff@uk.example.org", office="GB")
    sign_in(client, "staff@uk.example.org")
    page = client.get("/console/supporters/")
    response = client.post(
        "/console/supporters/import",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(NASTY.encode("utf-8")), "list.csv")},
    )
    assert response.status_code == 302
    progress_url = response.headers["Location"]
    assert 'data-refresh="2000"' in client.get(progress_url).get_data(as_text=True)  # import_progress.js polls
    run_jobs()
    done = client.get(progress_url).get_data(as_text=True)
    assert "done" in done and "data-refresh" not in done and "import_progress.js" not in done
    assert '<span class="n">4</span> added' in done and '<td class="num">11</td>' in done


def test_an_import_killed_half_way_and_run_again_leaves_everyone_once(app, service_env, tmp_path):
    office = make_office()
    rows = 30_000
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("email,first_name,tags\n")
        for n in range(rows):
            out.write(f"person{n}@example.org,Persona {n},list;{'even' if n % 2 == 0 else 'odd'}\n")

    def imported() -> int:
        db.session.rollback()  # see what the other process committed
        return db.session.scalar(db.select(db.func.count(Supporter.id)).where(Supporter.office_id == office.id))

    child = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "supporters", "import", str(path), "--office", "GB"],
        cwd=ROOT,
        env=service_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while imported() < 3_000 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)  # no chance to tidy up
    child.wait()
    half = imported()
    assert 0 < half < rows, "the import must be killed part of the way through"

    again = run_flask(service_env, "supporters", "import", str(path), "--office", "GB", timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"created {rows - half}, updated {half}, rejected 0" in again.stdout
    assert imported() == rows
    emails = db.session.scalars(db.select(Supporter.email).where(Supporter.office_id == office.id)).all()
    assert len(set(emails)) == rows
    last = db.session.scalar(db.select(Supporter).where(Supporter.email == f"person{rows - 1}@example.org"))
    assert last.tags == ["list", "odd"] and last.first_name == f"Persona {rows - 1}"
