"""CSV imports: streamed in batches, in constant memory; a bad row is reported by line, the good rows go in.

The file is read as UTF-8 (with or without BOM) or as UTF-16 with its BOM. Any other encoding
cannot be told for sure, so the file is refused whole rather than imported garbled.
"""
import codecs
import csv
import io
import queue
import sys
import threading
import uuid
from pathlib import Path
from typing import Callable

from flask import current_app

from ..clock import utcnow
from ..errors import NotFound
from ..extensions import db
from ..offices.models import Office
from .models import Import
from .service import Prepared, prepare_supporters, write_supporters

BATCH = 10_000
COLUMNS = ("email", "first_name", "last_name", "language", "tags", "consent_source", "consent_at")
KEPT_ERRORS = 1000  # in the import's row; the full list is in the report file


class Refused(ValueError):
    """The whole file cannot be read: nothing was imported."""


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the end of the sample
            raise Refused(
                "the file is not UTF-8 and its encoding cannot be told: save it as 'CSV UTF-8' and import it again"
            ) from None
    return "utf-8"


def _rows(raw, encoding: str):
    """(line where the row starts, row as dict) for each data row; line 1 is the header."""
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    try:
        yield from _rows_of(text)
    finally:
        text.detach()  # the caller's file stays open


def _rows_of(text):
    sample = text.read(65536)
    text.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, delimiter=dialect.delimiter, quotechar='"')
    header = [name.strip().lower().lstrip("\ufeff") for name in next(reader, [])]
    if "email" not in header:
        raise Refused("the header row has no 'email' column")
    wanted = [(i, name) for i, name in enumerate(header) if name in COLUMNS]
    line = reader.line_num + 1
    for values in reader:
        start, line = line, reader.line_num + 1
        row = _supporter(values, wanted)
        if row or any(v.strip() for v in values):  # a row with only other columns filled is missing its address
            row.setdefault("email", "")
            yield start, row


def _supporter(values: list[str], wanted: list[tuple[int, str]]) -> dict:
    """The row's non-empty fields, trimmed: an empty cell leaves what the list holds as it is."""
    data = {}
    for i, name in wanted:
        if i < len(values) and (value := values[i].strip()):
            data[name] = value
    if "tags" in data:
        data["tags"] = [t.strip() for t in data["tags"].split(";") if t.strip()]
    return data


def import_file(
    office: Office, raw, total_bytes: int, progress: Callable[[int, dict], None] | None = None, *, name: str = "a file"
) -> dict:
    """Import the CSV in the binary file `raw` (called `name`) into `office`; returns the counts and every rejected row.

    Two stages run at once: this thread reads and checks a batch while writer threads write the one
    before (the database works on the other core meanwhile). At most three batches are held (one read,
    one queued, one being written), so memory does not grow with the file.
    """
    try:
        encoding = _encoding(raw.read(65536))
    finally:
        raw.seek(0)
    result = {"created": 0, "updated": 0, "rejected": 0, "errors": []}
    # A writer whose statement has returned waits for the checking thread to let go of the interpreter;
    # Python's default of up to 5 ms per hand-over, a dozen statements a batch, would idle the writers.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    writer = _BatchWriters(office.id, source=f"import of {name}")
    batch: list[tuple[int, dict]] = []

    def record(outcomes: list[dict]):
        for outcome in outcomes:
            result["created"] += outcome["created"]
            result["updated"] += outcome["updated"]
        if outcomes and progress:
            progress(max(outcome["position"] for outcome in outcomes), result)

    def flush():
        prepared = prepare_supporters([row for _, row in batch])
        for reject in prepared.rejected:
            result["errors"].append({"line": batch[reject["index"]][0], "email": reject["email"], "error": reject["error"]})
        result["rejected"] += len(prepared.rejected)
        batch.clear()
        record(writer.submit(prepared, raw.tell()))

    try:
        try:
            for line, row in _rows(raw, encoding):
                batch.append((line, row))
                if len(batch) >= BATCH:
                    flush()
        except UnicodeDecodeError as error:
            raise Refused(
                f"the file is not valid {encoding}: {error.reason}; nothing after the last good batch was read"
            ) from None
        except csv.Error as error:
            raise Refused(f"the file is not readable as CSV: {error}") from None
        if batch:
            flush()
    finally:
        try:
            record(writer.finish())  # a refused file still keeps the batches read before the fault
        finally:
            sys.setswitchinterval(switch_interval)
    if progress:
        progress(total_bytes, result)
    return result


class _BatchWriters:
    """Threads that write prepared batches, each with a database session of its own, while the importing
    thread reads and checks the next batch. On PostgreSQL two write side by side (the database's work
    per row, indexes and foreign keys, is what takes longest), each address always to the same one, so
    two never race on one supporter; SQLite takes one writer at a time anyway."""

    def __init__(self, office_id: int, *, source: str):
        self.app = current_app._get_current_object()
        self.office_id, self.source = office_id, source
        count = 2 if db.session.get_bind().dialect.name == "postgresql" else 1
        self.todo: list[queue.Queue] = [queue.Queue(maxsize=1) for _ in range(count)]
        self.done: queue.Queue = queue.Queue()
        self.threads = [
            threading.Thread(target=self._run, args=(todo, index == 0), name=f"mobilise-import-{index}", daemon=True)
            for index, todo in enumerate(self.todo)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, prepared: Prepared, position: int) -> list[dict]:
        """Queue `prepared` (waiting while a batch is already queued); returns the outcomes of batches written since."""
        for todo, part in zip(self.todo, prepared.split(len(self.todo))):
            todo.put((part, position))
        return self._outcomes()

    def finish(self) -> list[dict]:
        """Wait for every queued batch to be written; returns their outcomes."""
        for todo in self.todo:
            todo.put(None)
        for thread in self.threads:
            thread.join()
        return self._outcomes()

    def _outcomes(self) -> list[dict]:
        outcomes = []
        while not self.done.empty():
            outcome = self.done.get()
            if isinstance(outcome, BaseException):  # raised here, in the importing thread
                raise outcome
            outcomes.append(outcome)
        return outcomes

    def _run(self, todo: queue.Queue, analyses: bool):
        with self.app.app_context():  # one session for the import, removed when the context ends
            written = 0
            while (item := todo.get()) is not None:
                prepared, position = item
                try:
                    written += 1
                    if analyses and written & (written - 1) == 0:  # the list has doubled since it was last analysed
                        refresh_statistics()
                    self.done.put({**write_supporters(self.office_id, prepared, source=self.source), "position": position})
                except Exception as error:  # noqa: BLE001 - handed to the importing thread, which raises it
                    db.session.rollback()
                    self.done.put(error)
                    while todo.get() is not None:  # let the importing thread finish queueing, write nothing more
                        pass
                    return


def refresh_statistics() -> None:
    """PostgreSQL plans each batch's lookup from statistics taken when the list was small; an import that
    grows it faster than autovacuum looks would be planned as a scan of the whole office, batch after batch."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text("ANALYZE supporters"))
        db.session.commit()


def write_report(result: dict, folder: Path, name: str) -> Path | None:
    """The rejected rows as a CSV (line, email, error), for staff to fix and import again."""
    if not result["errors"]:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-rejected.csv"
    with path.open("w", newline="", encoding="utf-8") as report:
        writer = csv.writer(report)
        writer.writerow(["line", "email", "error"])
        for error in result["errors"]:
            writer.writerow([error["line"], error["email"] or "", error["error"]])
    return path


def imports_folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def queue_import(office: Office, upload, filename: str) -> Import:
    """Keep the uploaded file and hand it to a worker."""
    from ..jobs import enqueue

    folder = imports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    upload.save(path)
    job = Import(office_id=office.id, filename=filename[:300] or "upload.csv", path=str(path), total_bytes=path.stat().st_size)
    db.session.add(job)
    db.session.commit()
    enqueue("workers.supporters.run_import", job.id, job_id=f"import-{job.id}")
    return job


def run_import(import_id: int) -> dict:
    """The worker's side: import the stored file, recording progress on the row as it goes."""
    job = db.session.get(Import, import_id)
    if job is None or job.status not in ("queued", "running") or not job.path:
        return {"skipped": True}
    office = db.session.get(Office, job.office_id)
    job.status = "running"
    db.session.commit()

    def progress(done_bytes: int, result: dict):
        job.done_bytes = done_bytes
        job.created, job.updated, job.rejected = result["created"], result["updated"], result["rejected"]
        job.errors = [{"line": e["line"], "error": e["error"]} for e in result["errors"][:KEPT_ERRORS]]
        db.session.commit()

    try:
        with open(job.path, "rb") as raw:
            result = import_file(office, raw, job.total_bytes, progress, name=job.filename)
    except Refused as error:
        job.status, job.failure = "failed", str(error)
    else:
        job.status = "done"
        write_report(result, imports_folder(), f"import-{job.id}")
    job.finished_at = utcnow()
    Path(job.path).unlink(missing_ok=True)
    job.path = None
    db.session.commit()
    return job.to_dict()


def get_import(import_id: int, office_ids: set[int] | None) -> Import:
    job = db.session.get(Import, import_id)
    if job is None or (office_ids is not None and job.office_id not in office_ids):
        raise NotFound(f"no import {import_id}")
    return job


