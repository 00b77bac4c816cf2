"""The scheduler's timetable and the job it runs, on the real Redis."""
from rq.cron import CronScheduler

from mobilise.jobs import queue, redis_connection

from .builders import make_case, make_office, make_supporters


def test_the_scheduler_enqueues_dispatch_every_minute(app):
    scheduler = CronScheduler(connection=redis_connection())
    scheduler.load_config_from_file("workers.cron")
    jobs = {(job.func_name, job.queue_name, job.cron) for job in scheduler.get_jobs()}
    assert jobs == {("workers.dispatch.tick", "dispatch", "* * * * *"),
                    ("workers.tracking.flush_events", "default", "* * * * *")}


def test_the_tick_job_sends_what_has_come_due(app, relay, run_jobs):
    import time
    from datetime import timedelta

    from mobilise.clock import iso, utcnow
    from mobilise.sequences.dispatch import start_drive

    office = make_office()
    make_supporters(office, 1)
    start_drive(make_case(), office, {"office": "GB", "send_at": iso(utcnow() + timedelta(seconds=1))})
    run_jobs()
    assert relay.received == []  # not due yet
    time.sleep(1.2)
    queue("dispatch").enqueue("workers.dispatch.tick")
    run_jobs()
    assert len(relay.received) == 1
