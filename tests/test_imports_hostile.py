"""CSV imports against files made to break them: each bad row rejected alone by its line, every import ending
`done` or `failed` with a reason, memory and disk bounded."""

import io
import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobilise.extensions import db
from mobilise.models import Import, Supporter
from mobilise.supporters import imports
from mobilise.supporters.csv_reader import Refused
from mobilise.supporters.imports import import_file, imports_folder, report_path
from mobilise.supporters.models import ImportPart

from .builders import bearer, make_office, token_for
from .test_console import csrf_from, sign_in

HEADER = "email,first_name,last_name,language,tags,consent_source,consent_at\n"


def upload(client, token, content: bytes, name="list.csv"):
    return client.post(
        "/api/v1/offices/GB/imports",
        headers=bearer(token),
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def imported(client, token, content: bytes, run_jobs) -> dict:
    response = upload(client, token, content)
    assert response.status_code == 202, response.json
    run_jobs()
    return client.get(f"/api/v1/imports/{response.json['id']}", headers=bearer(token)).json


@pytest.fixture
def staff(app):
    make_office()
    return token_for("staff@uk.example.org", office="GB")


def test_a_row_that_no_column_can_hold_is_rejected_alone_by_its_line(client, staff, run_jobs):
    rows = [
        "first@example.org,First,,,,,",  # 2
        "nul@example.org,Nu\x00l,,,,,",  # 3
        f"tag@example.org,,,,{'t' * 300},,",  # 4: tags are varchar(100)
        f"first-name@example.org,{'f' * 201},,,,,",  # 5
        f"last-name@example.org,,{'l' * 201},,,,",  # 6
        f"source@example.org,,,,,{'s' * 201},",  # 7
        f"{'e' * 320}@example.org,,,,,,",  # 8
        f"language@example.org,,,{'x' * 40},,,",  # 9
        "bad-date@example.org,,,,,petition,not a date",  # 10
        "far-future@example.org,,,,,petition,9999-12-31",  # 11
        "far-past@example.org,,,,,petition,1899-12-31",  # 12
        "offset@example.org,,,,,petition,0001-01-01T00:00:00+05:00",  # 13
        "last@example.org,Last,,,a;b,petition,2025-03-31T14:00:00Z",  # 14
    ]
    status = imported(client, staff, (HEADER + "\n".join(rows) + "\n").encode(), run_jobs)
    assert (status["status"], status["created"], status["updated"], status["rejected"]) == ("done", 2, 0, 11)
    reasons = {e["line"]: e["error"] for e in status["errors"]}
    assert sorted(reasons) == list(range(3, 14))
    assert "NUL" in reasons[3] and "tag" in reasons[4] and "first_name" in reasons[5] and "consent_at" in reasons[11]
    assert "1900 and 2999" in reasons[11] and "1900 and 2999" in reasons[12] and "1900 and 2999" in reasons[13]
    people = {s.email: s for s in db.session.scalars(db.select(Supporter))}
    assert set(people) == {"first@example.org", "last@example.org"}
    assert people["last@example.org"].tags == ["a", "b"] and people["last@example.org"].consent_at.year == 2025


def _files_in_imports() -> set[Path]:
    folder = imports_folder()
    return set(folder.iterdir()) if folder.is_dir() else set()


def _uploads_kept() -> int:
    """Bytes of uploads waiting in the database."""
    return db.session.scalar(db.select(db.func.coalesce(db.func.sum(db.func.length(ImportPart.data)), 0)))


HOSTILE = {
    "binary garbage": (bytes(range(256)) * 64, "not UTF-8"),
    "latin-1": ("email,first_name\njosé@example.org,José\n".encode("latin-1"), "not UTF-8"),
    "no email column": (b"name,phone\nAna,123\n", "no 'email' column"),
    "an empty file": (b"", "no 'email' column"),
    # (a longer one would be as good, but werkzeug's test client leaks the temporary file of a body over 500 kB)
    "a header of 12,000 columns": ((",".join(f"c{n}" for n in range(12_000)) + ",email\n").encode(), "header row"),
    "UTF-16 with a lone surrogate": (
        "\ufeffemail\na@example.org\n".encode("utf-16-le") + b"\x00\xd8a\x00\n\x00",
        "not valid utf-16",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_an_unreadable_file_fails_with_its_reason_in_the_api_and_the_console(client, staff, run_jobs, name):
    content, reason = HOSTILE[name]
    status = imported(client, staff, content, run_jobs)
    assert status["status"] == "failed" and reason in status["failure"], status
    assert _uploads_kept() == 0 and not db.session.scalar(db.select(ImportPart.import_id))  # the upload is not kept
    sign_in(client, "staff@uk.example.org")
    job = db.session.scalar(db.select(Import).order_by(Import.id.desc()))
    page = client.get(f"/console/supporters/imports/{job.id}").get_data(as_text=True)
    assert "failed" in page and "The import stopped:" in page and "data-refresh" not in page


def test_a_one_megabyte_line_is_one_rejected_row_and_the_rest_go_in(app, runner, tmp_path):
    make_office()
    path = tmp_path / "long-lines.csv"
    path.write_text(
        HEADER
        + "ana@example.org,Ana,,,,,\n"
        + "huge@example.org,"
        + "x" * 1_000_000
        + ",,,,,\n"
        + "," * 1_000_000
        + "\n"
        + "bo@example.org,Bo,,,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["supporters", "import", str(path), "--office", "GB"])
    assert result.exit_code == 0 and "created 2, updated 0, rejected 2" in result.output, result.output
    report = Path(result.output.strip().splitlines()[-1].split(": ", 1)[1]).read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in report] == ["line", "3", "4"] and "longer than 65" in report[1]


def test_a_worker_raising_half_way_ends_the_import_failed_with_the_batches_before_it_kept(
    client, staff, run_jobs, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 10)
    written = []
    real = imports.write_supporters

    def write_then_fail(office_id, batch, *, source):  # the database going away after the first batch
        if written:
            raise ConnectionError("the database went away")
        written.append(batch)
        return real(office_id, batch, source=source)

    monkeypatch.setattr(imports, "write_supporters", write_then_fail)
    rows = "".join(f"p{n}@example.org,P{n},,,,,\n" for n in range(50))
    status = imported(client, staff, (HEADER + rows).encode(), run_jobs)
    assert status["status"] == "failed" and "ConnectionError" in status["failure"] and "again" in status["failure"]
    kept = db.session.scalar(db.select(db.func.count(Supporter.id)))  # PostgreSQL's two writers split a batch
    assert 0 < kept <= 10 and status["created"] == kept  # what went in is what the import says
    assert not db.session.scalar(db.select(ImportPart.import_id))  # the upload is deleted


def test_rejected_rows_go_to_the_report_and_only_the_first_thousand_stay_in_memory(app, tmp_path):
    office = make_office()
    rows = 25_000
    path = tmp_path / "all-bad.csv"
    path.write_text(HEADER + "".join(f"bad-{n}.example.org,B,,,,,\n" for n in range(rows)), encoding="utf-8")
    report = tmp_path / "report.csv"
    with path.open("rb") as raw:
        result = import_file(office, raw, path.stat().st_size, report=report)
    assert (result["created"], result["rejected"], len(result["errors"])) == (0, rows, 1000)
    assert result["report"] == report
    lines = report.read_text(encoding="utf-8").splitlines()
    assert len(lines) == rows + 1 and lines[-1].startswith(f"{rows + 1},bad-{rows - 1}.example.org,")


def test_an_upload_over_the_limit_answers_413_and_is_not_stored(app, client, staff):
    app.config["IMPORT_MAX_BYTES"] = 2_000
    big = (HEADER + "".join(f"p{n}@example.org,P,,,,,\n" for n in range(200))).encode()
    assert upload(client, staff, big).status_code == 413
    sign_in(client, "staff@uk.example.org")
    page = client.get("/console/supporters/")
    console = client.post(
        "/console/supporters/import",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(big), "list.csv")},
    )
    assert console.status_code == 413 and "larger than" in console.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Import.id))) == 0 and _uploads_kept() == 0
    assert upload(client, staff, HEADER.encode() + b"ok@example.org,,,,,,\n").status_code == 202  # under it: taken


def test_the_tick_ends_imports_whose_worker_died_and_requeues_lost_ones(client, staff, run_jobs, redis_client):
    from mobilise.sending.tick import tick

    dead = Import(
        office_id=db.session.scalar(db.select(imports.Office.id)), filename="dead.csv", total_bytes=10, status="running"
    )
    db.session.add(dead)
    db.session.flush()
    db.session.add(ImportPart(import_id=dead.id, number=0, data=(HEADER + "x@example.org,,,,,,\n").encode()))
    db.session.commit()
    lost_id = upload(client, staff, (HEADER + "lost@example.org,Lost,,,,,\n").encode()).json["id"]
    redis_client.flushdb()  # every key in Redis gone, the queued job with them
    tick()
    run_jobs()
    dead_status = client.get(f"/api/v1/imports/{dead.id}", headers=bearer(staff)).json
    assert dead_status["status"] == "failed" and "worker stopped" in dead_status["failure"]
    assert client.get(f"/api/v1/imports/{lost_id}", headers=bearer(staff)).json["status"] == "done"
    assert _uploads_kept() == 0  # neither upload is kept
    assert db.session.scalar(db.select(Supporter.email)) == "lost@example.org"


def test_the_worker_needs_no_disk_in_common_with_the_web_that_took_the_upload(app, client, staff, run_jobs, tmp_path):
    response = upload(client, staff, (HEADER + "far@example.org,Far,,,,,\nnope,,,,,,\n").encode())
    assert response.status_code == 202
    app.instance_path = str(tmp_path / "the-worker-host")  # another host's instance folder, empty
    run_jobs()
    status = client.get(f"/api/v1/imports/{response.json['id']}", headers=bearer(staff)).json
    assert (status["status"], status["created"], status["rejected"]) == ("done", 1, 1), status
    assert db.session.scalar(db.select(Supporter.first_name)) == "Far"
    assert report_path(status["id"]).is_file()  # the report of rejected rows is on the worker's side


def test_a_big_upload_waits_in_parts_and_comes_back_whole(app, client, staff, run_jobs, monkeypatch):
    monkeypatch.setattr(imports, "PART_BYTES", 4096)
    rows = "".join(f"p{n}@example.org,Pé{n},,,,,\n" for n in range(3000))
    content = (HEADER + rows).encode()
    response = upload(client, staff, content)
    parts = db.session.scalars(db.select(ImportPart.data).order_by(ImportPart.number)).all()
    assert len(parts) == -(-len(content) // 4096) and b"".join(parts) == content
    run_jobs()
    status = client.get(f"/api/v1/imports/{response.json['id']}", headers=bearer(staff)).json
    assert (status["status"], status["created"], status["progress"]) == ("done", 3000, 1.0), status
    assert db.session.scalar(db.select(Supporter.first_name).where(Supporter.email == "p2999@example.org")) == "Pé2999"
    assert _uploads_kept() == 0


def test_uploads_and_reports_are_deleted_by_the_tick_after_the_retention(app, client, staff, run_jobs, redis_client):
    from mobilise.sending.tick import tick

    status = imported(client, staff, (HEADER + "nope,,,,,,\n").encode(), run_jobs)
    report = report_path(status["id"])
    assert report.exists() and "nope" in report.read_text()
    stray = imports_folder() / "stray-report.csv"  # a report left by a crash
    stray.write_text("email\n")
    old = time.time() - 8 * 86400
    os.utime(stray, (old, old))
    # An upload whose job was lost and never ran, made 8 days ago.
    waiting_id = upload(client, staff, (HEADER + "late@example.org,,,,,,\n").encode()).json["id"]
    redis_client.flushdb()
    db.session.execute(
        db.update(Import).where(Import.id == waiting_id).values(created_at=imports.utcnow() - timedelta(days=8))
    )
    db.session.commit()
    tick()
    assert report.exists() and not stray.exists()  # the report is a day old, within the 7 days
    assert _uploads_kept() == 0
    run_jobs()
    late = client.get(f"/api/v1/imports/{waiting_id}", headers=bearer(staff)).json
    assert late["status"] == "failed" and "gone" in late["failure"] and late["created"] == 0
    app.config["IMPORT_RETENTION_DAYS"] = 0.000001  # a tenth of a second
    time.sleep(0.3)
    tick()
    assert not report.exists()


def physical_lines(content: bytes) -> int:
    """Lines as a CSV reader counts them: ended by CRLF, LF or a lone CR (old Mac files)."""
    return len(re.findall(rb"\r\n|\r|\n", content))


# The CSV reader, from anything a file could hold: it ends, and every row it read is counted once.
CELL = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40) | st.sampled_from(
    ["a@example.org", "A@Example.org", " b@example.org ", "x" * 300, "\x00", "9999-12-31", "2025-01-01", "en", "t;u"]
)


@settings(max_examples=100, deadline=2000, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=7, max_size=7), max_size=12), delimiter=st.sampled_from([",", ";", "\t"]))
def test_any_rows_written_as_csv_are_each_created_updated_or_rejected(app, rows, delimiter):
    import csv

    office = db.session.scalar(db.select(imports.Office)) or make_office()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["email", "first_name", "last_name", "language", "tags", "consent_source", "consent_at"])
    writer.writerows(rows)
    content = out.getvalue().encode("utf-8")
    result = import_file(office, io.BytesIO(content), len(content))
    counted = [r for r in rows if any("\x00" in v for v in r) or any(v.strip() for v in r)]
    assert result["created"] + result["updated"] + result["rejected"] == len(counted)
    assert all(2 <= e["line"] <= physical_lines(content) for e in result["errors"])


@settings(max_examples=100, deadline=2000, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400) | st.text(max_size=400).map(lambda t: ("email,tags\n" + t).encode("utf-8")))
def test_any_bytes_end_in_counts_or_a_reason(app, content):
    office = db.session.scalar(db.select(imports.Office)) or make_office()
    try:
        result = import_file(office, io.BytesIO(content), len(content))
    except Refused as refused:
        assert str(refused)  # a file refused whole says why
    else:
        lines = physical_lines(content) + 1  # the last may have no line break
        assert result["created"] + result["updated"] + result["rejected"] <= lines
        assert all(2 <= e["line"] <= lines for e in result["errors"])
