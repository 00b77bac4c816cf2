"""The RQ worker the `worker` command runs."""
import gc

from flask import current_app
from rq import Worker
from sqlalchemy.orm import configure_mappers

from .extensions import db
from .jobs import all_queues, enqueue, redis_connection


class MobiliseWorker(Worker):
    """RQ's forking worker, made safe for SQLAlchemy.

    The job process is a fork of the worker: it must not reuse the pooled connections
    it inherited (their sockets belong to the parent), so it drops them unclosed and
    opens its own (SQLAlchemy's documented recipe for multiprocessing).
    """

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


def run_worker(burst: bool) -> bool:
    if burst:
        # A burst worker leaves the counts complete: every open and click recorded before it
        # started is written before it exits (the default queue drains last).
        enqueue("workers.tracking.flush_events", queue_name="default", job_id="flush-events")
    worker = MobiliseWorker(all_queues(), connection=redis_connection())
    prepare_for_forks()
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


def prepare_for_forks() -> None:
    """Each job runs in a fork of this process: what is loaded here, every job inherits instead of redoing.

    The ORM's mappers are configured (about 30 ms, otherwise at each job's first query) and the email templates
    compiled (a batch otherwise compiles those it renders, about 12 ms). Then
    every object so far is moved out of the garbage collector's sight (`gc.freeze`, Python's advice for
    forking servers): a job's collections would otherwise touch them all, and each page touched is a page
    copied into the job process."""
    configure_mappers()
    env = current_app.jinja_env
    for name in env.list_templates(filter_func=lambda name: name.startswith("emails/")):
        env.get_template(name)
    gc.freeze()
