"""CSV imports: streamed in batches, in constant memory; a bad row is reported by line, the good rows go in.

An import always ends, `done` or `failed` with its reason: whatever the file holds (see csv_reader), and
whatever stops its worker (an error is caught here; a killed worker is found by the tick). Its upload waits in
the database (the web and the worker share no disk) and is deleted when the import ends; the report of rejected
rows, on the worker's disk, and any upload left behind, IMPORT_RETENTION_DAYS after they were written.
"""

import csv
import logging
import queue
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from flask import current_app

from ..audit.service import record
from ..clock import utcnow
from ..errors import NotFound
from ..extensions import db
from ..offices.models import Office
from .csv_reader import Refused, encoding_of, read_rows
from .models import Import, ImportPart
from .service import Prepared, prepare_supporters, write_supporters

__all__ = ["Refused", "import_file", "queue_import", "run_import", "get_import"]

log = logging.getLogger(__name__)

BATCH = 10_000
# A batch is also cut at this many characters read, so that wide rows cannot make one large.
BATCH_CHARS = 8 * 1024 * 1024
KEPT_ERRORS = 1000  # in the import's row; the report file has every one
# Said where an import stopped half-way: running it again is safe, and finishes it.
AGAIN = "; importing the same file again adds the rest (whoever is on the list already is updated, not added twice)"
# An import's worker may take this long; a longer one is stopped and the import failed.
JOB_TIMEOUT = 4 * 3600
# An upload waits in the database in parts of this size, so neither side holds it whole.
PART_BYTES = 1024 * 1024


class _Report:
    """The rejected rows, written to the report file as they come (so memory does not grow with them);
    only the first KEPT_ERRORS are kept in memory, for the import's row."""

    def __init__(self, path: Path | None):
        self.path, self.file, self.writer = path, None, None
        self.kept: list[dict] = []
        if path is not None:
            path.unlink(missing_ok=True)  # an older run's report would mislead

    def add(self, line: int, email, error: str) -> None:
        if len(self.kept) < KEPT_ERRORS:
            self.kept.append({"line": line, "error": error})
        if self.path is None:
            return
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open("w", newline="", encoding="utf-8")
            self.writer = csv.writer(self.file)
            self.writer.writerow(["line", "email", "error"])
        self.writer.writerow([line, email[:320] if isinstance(email, str) else "", error])

    def close(self) -> Path | None:
        if self.file is None:
            return None
        self.file.close()
        return self.path


def import_file(
    office: Office,
    raw,
    total_bytes: int,
    progress: Callable[[int, dict], None] | None = None,
    *,
    name: str = "a file",
    report: Path | None = None,
) -> dict:
    """Import the CSV in the binary file `raw` (called `name`) into `office`; returns the counts, the first
    KEPT_ERRORS rejected rows (`errors`) and the path of the `report` holding all of them (None if none).

    Two stages run at once: this thread reads and checks a batch while writer threads write the one
    before (the database works on the other core meanwhile). At most three batches are held (one read,
    one queued, one being written), so memory does not grow with the file.
    """
    try:
        encoding = encoding_of(raw.read(65536))
    finally:
        raw.seek(0)
    rejects = _Report(report)
    result = {"created": 0, "updated": 0, "rejected": 0, "errors": rejects.kept, "report": None}
    # A writer whose statement has returned waits for the checking thread to let go of the interpreter;
    # Python's default of up to 5 ms per hand-over, a dozen statements a batch, would idle the writers.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    writer = _BatchWriters(office.id, source=f"import of {name}")
    batch: list[tuple[int, dict]] = []
    batch_chars = 0

    def reject(line: int, email, error: str):
        rejects.add(line, email, error)
        result["rejected"] += 1

    def record(outcomes: list[dict]):
        for outcome in outcomes:
            result["created"] += outcome["created"]
            result["updated"] += outcome["updated"]
        if outcomes and progress:
            progress(max(outcome["position"] for outcome in outcomes), result)
        writer.raise_failure()

    def flush():
        prepared = prepare_supporters([row for _, row in batch])
        for rejected in prepared.rejected:
            reject(batch[rejected["index"]][0], rejected["email"], rejected["error"])
        prepared.rejected = []  # reported: the writers need not carry them
        batch.clear()
        record(writer.submit(prepared, raw.tell()))

    try:
        try:
            for line, row, unfit, chars in read_rows(raw, encoding):
                if unfit:
                    reject(line, row.get("email"), unfit)
                    continue
                batch.append((line, row))
                batch_chars += chars
                if len(batch) >= BATCH or batch_chars >= BATCH_CHARS:
                    flush()
                    batch_chars = 0
        except UnicodeDecodeError as error:
            raise Refused(
                f"the file is not valid {encoding}: {error.reason}; nothing after the last whole batch was read"
            ) from None
        if batch:
            flush()
    finally:
        try:
            record(writer.finish())  # a refused file still keeps the batches read before the fault
        finally:
            sys.setswitchinterval(switch_interval)
            result["report"] = rejects.close()
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
        self.failure: BaseException | None = None
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
            if isinstance(outcome, BaseException):
                self.failure = outcome
            else:
                outcomes.append(outcome)
        return outcomes

    def raise_failure(self) -> None:
        """A writer's error, raised in the importing thread once the batches written before it are counted."""
        if self.failure is not None:
            raise self.failure

    def _run(self, todo: queue.Queue, analyses: bool):
        with self.app.app_context():  # one session for the import, removed when the context ends
            written = 0
            while (item := todo.get()) is not None:
                prepared, position = item
                try:
                    written += 1
                    if analyses and written & (written - 1) == 0:  # the list has doubled since it was last analysed
                        refresh_statistics()
                    self.done.put(
                        {**write_supporters(self.office_id, prepared, source=self.source), "position": position}
                    )
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


def imports_folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def report_path(import_id: int) -> Path:
    return imports_folder() / f"import-{import_id}-rejected.csv"


def queue_import(office: Office, upload, filename: str) -> Import:
    """Keep the uploaded file in the database, in parts, and hand it to a worker, which may run on another host.
    The caller has bounded the upload's size (IMPORT_MAX_BYTES) before reading it."""
    job = Import(office_id=office.id, filename=filename.replace("\x00", "")[:300] or "upload.csv", total_bytes=0)
    db.session.add(job)
    db.session.flush()
    stream, number = upload.stream, 0
    while True:
        part = stream.read(PART_BYTES)
        if not part and number:
            break
        # Through Core, one part at a time: an ORM object would stay in the session, the whole file with it.
        db.session.execute(db.insert(ImportPart).values(import_id=job.id, number=number, data=part))
        job.total_bytes += len(part)
        number += 1
        if not part:  # an empty file is one empty part: no part at all means the upload is gone
            break
    record("import.started", subject=f"import {job.id}", office=office, details={"bytes": job.total_bytes})
    db.session.commit()
    enqueue_import(job.id)
    return job


def _upload_copy(import_id: int):
    """The upload, copied part by part into a temporary file of the worker's own (gone with the worker,
    whatever stops it); FileNotFoundError when its parts were deleted (the import ended, or its retention)."""
    numbers = db.session.scalars(
        db.select(ImportPart.number).where(ImportPart.import_id == import_id).order_by(ImportPart.number)
    ).all()
    if not numbers:
        raise FileNotFoundError(import_id)
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - handed open to the caller, which closes it
    try:
        for number in numbers:  # one part held at a time (a column read is not kept by the session)
            copy.write(
                db.session.scalar(
                    db.select(ImportPart.data).where(ImportPart.import_id == import_id, ImportPart.number == number)
                )
            )
        copy.seek(0)
    except BaseException:
        copy.close()
        raise
    return copy


def forget_upload(import_id: int) -> None:
    """Delete the upload's parts (the caller commits)."""
    db.session.execute(db.delete(ImportPart).where(ImportPart.import_id == import_id))


def import_at_once(office: Office, raw, total_bytes: int, progress=None, *, name: str, report: Path) -> dict:
    """The command line's import: read here and now, then one audit entry with its counts. Its batches commit
    as they go, each in a writer's own session, so the entry follows them; a refused file's entry says so, for
    the batches read before the fault are kept."""
    try:
        result = import_file(office, raw, total_bytes, progress, name=name, report=report)
    except Refused:
        record("supporters.imported", office=office, details={"refused": True})
        db.session.commit()
        raise
    record(
        "supporters.imported",
        office=office,
        details={"created": result["created"], "updated": result["updated"], "rejected": result["rejected"]},
    )
    db.session.commit()
    return result


def enqueue_import(import_id: int):
    from ..jobs import enqueue

    return enqueue("workers.supporters.run_import", import_id, job_id=f"import-{import_id}", job_timeout=JOB_TIMEOUT)


def run_import(import_id: int) -> dict:
    """The worker's side: import the stored upload, recording progress on the row as it goes. It ends
    `done` or `failed` whatever happens inside, and the upload is deleted either way."""
    job = db.session.get(Import, import_id)
    if job is None or job.status not in ("queued", "running"):
        return {"skipped": True}
    office = db.session.get(Office, job.office_id)
    job.status = "running"
    db.session.commit()

    def progress(done_bytes: int, result: dict):
        job.done_bytes = done_bytes
        job.created, job.updated, job.rejected = result["created"], result["updated"], result["rejected"]
        job.errors = list(result["errors"])
        db.session.commit()

    try:
        with _upload_copy(import_id) as raw:
            import_file(office, raw, job.total_bytes, progress, name=job.filename, report=report_path(job.id))
        failure = None
    except Refused as error:
        failure = str(error)
    except FileNotFoundError:
        failure = "the uploaded file is gone (kept only for a while): import it again"
    except Exception as error:  # noqa: BLE001 - whatever stops it, the import must end and say so
        # By its kind only: a database error's text can quote a row, and so an address.
        log.error("import %s stopped on %s", import_id, type(error).__name__)
        failure = f"it stopped on an unexpected error ({type(error).__name__}); the rows counted here are in" + AGAIN
    db.session.rollback()  # a failed statement leaves the session unusable until then
    job = db.session.get_one(Import, import_id)
    job.status, job.failure = ("failed", failure) if failure else ("done", None)
    job.finished_at = utcnow()
    forget_upload(import_id)
    db.session.commit()
    return job.to_dict()


def get_import(import_id: int, office_ids: set[int] | None) -> Import:
    job = db.session.get(Import, import_id)
    if job is None or (office_ids is not None and job.office_id not in office_ids):
        raise NotFound(f"no import {import_id}")
    return job
