"""The scheduler's timetable and the job it runs, on the real Redis."""

from datetime import UTC

from rq.cron import CronScheduler

from mobilise.jobs import queue, redis_connection

from .builders import make_case, make_office, make_supporters


def test_the_scheduler_enqueues_dispatch_every_minute(app):
    scheduler = CronScheduler(connection=redis_connection())
    scheduler.load_config_from_file("workers.cron")
    jobs = {(job.func_name, job.queue_name, job.cron) for job in scheduler.get_jobs()}
    assert jobs == {
        ("workers.dispatch.tick", "dispatch", "* * * * *"),
        ("workers.tracking.flush_events", "default", "* * * * *"),
    }


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


def test_a_worker_alone_sends_a_launch_planned_ahead(app, relay, service_env):
    """No scheduler, no tick called by the test: the worker keeps the tick itself."""
    import subprocess
    import sys
    import time
    from datetime import timedelta

    from mobilise.clock import iso, utcnow
    from mobilise.extensions import db
    from mobilise.models import Mailing
    from mobilise.sequences.dispatch import start_drive

    from .conftest import ROOT

    office = make_office()
    make_supporters(office, 3)
    drive = start_drive(make_case(), office, {"office": "GB", "send_at": iso(utcnow() + timedelta(seconds=2))})
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env={**service_env, "TICK_SECONDS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while len(relay.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(10)
    assert sorted(relay.recipients()) == [f"person{n}@gb.example.net" for n in range(3)]
    db.session.expire_all()
    assert db.session.get(Mailing, drive.mailings[0].id).status == "sent"


def test_work_waiting_or_running_is_not_enqueued_twice_and_lost_work_is_enqueued_again(app, redis_client):
    from datetime import datetime, timedelta

    from rq.job import Job, JobStatus

    from mobilise.jobs import enqueue

    first = enqueue("workers.dispatch.tick", job_id="x-1", queue_name="dispatch")
    assert enqueue("workers.dispatch.tick", job_id="x-1", queue_name="dispatch").id == first.id
    assert queue("dispatch").count == 1

    queue("dispatch").remove(first)  # taken from the queue by a worker that died at once
    enqueue("workers.dispatch.tick", job_id="x-1", queue_name="dispatch")
    assert queue("dispatch").job_ids == ["x-1"]

    job = Job.fetch("x-1", connection=redis_client)
    queue("dispatch").remove(job)
    job.set_status(JobStatus.STARTED)
    job.heartbeat(datetime.now(UTC), ttl=600)  # running, its worker alive
    enqueue("workers.dispatch.tick", job_id="x-1", queue_name="dispatch")
    assert queue("dispatch").count == 0
    job.heartbeat(datetime.now(UTC) - timedelta(minutes=5), ttl=600)  # its worker was killed
    enqueue("workers.dispatch.tick", job_id="x-1", queue_name="dispatch")
    assert queue("dispatch").job_ids == ["x-1"]

    redis_client.flushdb()  # Redis lost every key
    enqueue("workers.dispatch.tick", job_id="x-1", queue_name="dispatch")
    assert queue("dispatch").job_ids == ["x-1"]
