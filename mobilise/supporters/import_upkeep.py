"""What the tick does for imports: none is left unfinished by a lost job or a dead worker, and no upload
or report of rejected rows (personal data) is kept past IMPORT_RETENTION_DAYS."""

import time
from datetime import datetime, timedelta

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from ..clock import utcnow
from ..extensions import db
from ..jobs import is_live, redis_connection
from .imports import AGAIN, enqueue_import, forget_upload, imports_folder
from .models import Import, ImportPart


def look_after_imports(at: datetime | None = None) -> dict:
    """For the tick: an import whose job was lost (Redis emptied) is queued again; one whose worker died
    under it (killed, out of memory) is failed, rather than retried into the same death; and uploads and
    reports older than IMPORT_RETENTION_DAYS are deleted."""
    at = at or utcnow()
    requeued = failed = 0
    unfinished = db.session.execute(
        db.select(Import.id, Import.status).where(Import.status.in_(("queued", "running")))
    ).all()
    for import_id, status in unfinished:
        try:
            job = Job.fetch(f"import-{import_id}", connection=redis_connection())
        except NoSuchJobError:
            job = None
        if job is not None and is_live(job):
            continue
        if status == "queued" and job is not None and job.get_status(refresh=False) == JobStatus.FINISHED:
            continue  # it ran and found nothing to do: queueing it again would not change that
        if status == "queued":
            enqueue_import(import_id)
            requeued += 1
        elif _fail_dead(import_id, at):
            failed += 1
    return {"requeued": requeued, "failed": failed, "deleted": purge_old_files(at) + purge_old_uploads(at)}


def _fail_dead(import_id: int, at: datetime) -> bool:
    gone = (
        db.update(Import)
        .where(Import.id == import_id, Import.status == "running")
        .values(
            status="failed",
            finished_at=at,
            failure="its worker stopped half-way (killed, or out of memory); the rows counted here are in" + AGAIN,
        )
    )
    done = db.session.execute(gone).rowcount == 1
    if done:
        forget_upload(import_id)
    db.session.commit()
    return done


def purge_old_uploads(at: datetime) -> int:
    """The uploads of imports made more than IMPORT_RETENTION_DAYS ago that have not ended (an ended import's
    upload is deleted as it ends): their import then fails, saying the file is gone."""
    cutoff = at - timedelta(days=current_app.config["IMPORT_RETENTION_DAYS"])
    old = db.select(Import.id).where(Import.created_at < cutoff).scalar_subquery()
    deleted = db.session.execute(db.delete(ImportPart).where(ImportPart.import_id.in_(old))).rowcount
    db.session.commit()
    return deleted


def purge_old_files(at: datetime) -> int:
    """Every file in the imports folder (reports of rejected rows of the console, the API and the command line)
    written more than IMPORT_RETENTION_DAYS ago."""
    folder = imports_folder()
    if not folder.is_dir():
        return 0
    cutoff = (
        time.time()
        - (utcnow() - at).total_seconds()
        - timedelta(days=current_app.config["IMPORT_RETENTION_DAYS"]).total_seconds()
    )
    deleted = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # another worker's tick was first
            pass
    return deleted
