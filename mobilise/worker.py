"""The RQ worker the `worker` command runs: a complete deployment beside the web, however many run.

Each worker keeps the tick in a small process of its own (`Ticker`): once a minute, the first worker
to take that minute's lock in Redis runs it. So any number of identical workers run everything due,
with no scheduler process, and a worker killed at any instant leaves the others to go on. The lock is
only there to save work: if Redis loses it, a second tick that minute does no harm.
"""

import gc
import logging
import multiprocessing
import os
import signal
import time

from flask import current_app
from rq import Worker
from sqlalchemy.orm import configure_mappers

from .extensions import db
from .jobs import all_queues, enqueue, redis_connection
from .logs import configure as configure_logging
from .logs import redact
from .warm import compile_templates

log = logging.getLogger(__name__)


class MobiliseWorker(Worker):
    """RQ's forking worker, made safe for SQLAlchemy.

    The job process is a fork of the worker: it must not reuse the pooled connections
    it inherited (their sockets belong to the parent), so it drops them unclosed and
    opens its own (SQLAlchemy's documented recipe for multiprocessing).
    """

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)

    def handle_job_failure(self, job, queue, started_job_registry=None, exc_string=""):
        # The traceback RQ keeps with a failed job (`rq info`, dashboards) is redacted as a log line is.
        super().handle_job_failure(job, queue, started_job_registry, exc_string=redact(exc_string))


def run_worker(burst: bool) -> bool:
    # What the service itself says (each tick's summary, pauses, recoveries) beside RQ's own lines; ids and
    # counts only, never an address.
    configure_logging(level=logging.INFO)
    worker = MobiliseWorker(all_queues(), connection=redis_connection())
    if burst:
        # A burst worker first does what is due now, and leaves the counts complete: every open and click
        # recorded before it started is written before it exits (the default queue drains last).
        keep_the_tick()
        prepare_for_forks()
        return worker.work(burst=True, logging_level="INFO")
    ticker = Ticker()
    ticker.start()
    try:
        prepare_for_forks()
        return worker.work(logging_level="INFO")
    finally:
        ticker.terminate()


def keep_the_tick() -> dict:
    from .sending.tick import tick

    enqueue("workers.tracking.flush_events", queue_name="default", job_id="flush-events")
    return tick()


class Ticker(multiprocessing.get_context("fork").Process):
    """Runs the tick each TICK_SECONDS when this worker is the first to claim that slot. Forked before the worker
    starts (no threads yet), and gone within a second of the worker, however the worker ended."""

    def __init__(self):
        super().__init__(name="mobilise-ticker", daemon=True)
        self.worker_pid = os.getpid()

    def run(self) -> None:
        # Ctrl-C reaches the whole process group: the worker stops warmly, and this process goes with it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        db.engine.dispose(close=False)  # the worker's pooled connections are the worker's
        seconds = current_app.config["TICK_SECONDS"]
        last = None
        while os.getppid() == self.worker_pid:
            slot = int(time.time() // seconds)
            if slot != last:
                last = slot
                self._tick_if_first(slot, seconds)
            time.sleep(min(1.0, seconds / 4))

    @staticmethod
    def _tick_if_first(slot: int, seconds: float) -> None:
        try:
            if redis_connection().set(f"mobilise:tick:{slot}", os.getpid(), nx=True, ex=max(2, int(2 * seconds))):
                keep_the_tick()
        except Exception:  # the database or Redis away: the next slot tries again
            log.exception("the tick failed; trying again at the next one")
            db.session.rollback()
        finally:
            db.session.remove()


def prepare_for_forks() -> None:
    """Each job runs in a fork of this process: what is loaded here, every job inherits instead of redoing.

    The ORM's mappers are configured (otherwise at each job's first query) and the email templates
    compiled (a batch otherwise compiles those it renders). Then every object so far is moved out of
    the garbage collector's sight (`gc.freeze`, Python's advice for forking servers): a job's
    collections would otherwise touch them all, and each page touched is a page copied into the job
    process."""
    configure_mappers()
    compile_templates(current_app, "emails")
    gc.freeze()
