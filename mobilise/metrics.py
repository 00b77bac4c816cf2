"""What Prometheus scrapes at /metrics, read from the rows and from Redis at each scrape.

Several web processes and workers share the work, so none of them could count it in memory: each scrape asks
the database (emails per office, deliveries deferred, mailings paused) and Redis (queue lengths, events
waiting, the last tick, relays down). Either may be away: the other's figures are still given, and
`mobilise_database_up` or `mobilise_redis_up` says 0.
"""

import logging
import time
from collections import Counter

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError

from .counts.models import DriveCounts
from .extensions import db
from .jobs import QUEUE_NAMES, quick_redis
from .offices.models import Office
from .sending.delivery_state import DeliveryStatus
from .sending.models import Delivery
from .sending.relays import all_relays
from .sending.tick import LAST_TICK
from .sequences.mailing_state import MailingStatus
from .sequences.models import Drive, Mailing
from .tracking.events import WAITING

log = logging.getLogger(__name__)


def exposition() -> bytes:
    """The metrics in Prometheus's text format."""
    registry = CollectorRegistry()
    registry.register(Figures())
    return generate_latest(registry)


class Figures:
    """A custom collector (prometheus-client calls `collect` at each scrape)."""

    def collect(self):
        yield from _database_figures()
        yield from _redis_figures()


def _up(part: str, up: bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        f"mobilise_{part}_up", f"1 when {part} answered this scrape; 0 and no {part} figures else", value=int(up)
    )


def _database_figures() -> list[Metric]:
    try:
        figures = _from_database()
    except SQLAlchemyError:
        log.warning("the metrics give no database figures: the database did not answer", exc_info=True)
        db.session.rollback()
        return [_up("database", False)]
    return [_up("database", True), *figures]


def _redis_figures() -> list[Metric]:
    try:
        figures = _from_redis(quick_redis())
    except RedisError as error:
        log.warning("the metrics give no Redis figures: Redis did not answer (%s)", type(error).__name__)
        return [_up("redis", False)]
    return [_up("redis", True), *figures]


def _from_database() -> list[Metric]:
    emails = db.session.execute(
        db.select(
            Office.code,
            *(
                func.coalesce(func.sum(column), 0)
                for column in (DriveCounts.sent, DriveCounts.failed, DriveCounts.bounced)
            ),
        )
        .select_from(Office)
        .outerjoin(Drive, Drive.office_id == Office.id)
        .outerjoin(DriveCounts, DriveCounts.drive_id == Drive.id)
        .group_by(Office.code)
        .order_by(Office.code)
    ).all()
    offices = [code for code, *_ in emails]
    deferred = dict(
        db.session.execute(
            db.select(Office.code, func.count(Delivery.id))
            .select_from(Delivery)
            .join(Mailing, Mailing.id == Delivery.mailing_id)
            .join(Drive, Drive.id == Mailing.drive_id)
            .join(Office, Office.id == Drive.office_id)
            .where(Delivery.status == DeliveryStatus.DEFERRED)
            .group_by(Office.code)
        ).all()
    )
    # A pause with an end is the relay's (down, or its hourly limit reached): the tick resumes it. One without
    # waits for staff (too many errors, the complaint or bounce guard).
    paused = Counter(
        (code, "relay" if until else "staff")
        for code, until in db.session.execute(
            db.select(Office.code, Mailing.paused_until)
            .select_from(Mailing)
            .join(Drive, Drive.id == Mailing.drive_id)
            .join(Office, Office.id == Drive.office_id)
            .where(Mailing.status == MailingStatus.PAUSED)
        )
    )

    families = [
        CounterMetricFamily(f"mobilise_emails_{outcome}", f"Drive emails {outcome}, by office", labels=["office"])
        for outcome in ("sent", "failed", "bounced")
    ]
    for code, *numbers in emails:
        for family, number in zip(families, numbers):
            family.add_metric([code], number)
    waiting = GaugeMetricFamily(
        "mobilise_emails_deferred",
        "Deliveries deferred now (a relay's 4xx), waiting for their retry, by office",
        labels=["office"],
    )
    stopped = GaugeMetricFamily(
        "mobilise_mailings_paused",
        "Mailings paused now, by office and by what they wait for: the relay (resumed by the tick) or staff",
        labels=["office", "waiting_for"],
    )
    for code in offices:
        waiting.add_metric([code], deferred.get(code, 0))
        for waiting_for in ("relay", "staff"):
            stopped.add_metric([code, waiting_for], paused[code, waiting_for])
    return [*families, waiting, stopped]


def _from_redis(redis: Redis) -> list[Metric]:
    queues = GaugeMetricFamily("mobilise_queue_length", "Jobs waiting in each RQ queue", labels=["queue"])
    for name in QUEUE_NAMES:
        queues.add_metric([name], Queue(name, connection=redis).count)
    down = GaugeMetricFamily(
        "mobilise_relay_down",
        "1 while a relay is marked down (every mailing it serves pauses until it is tried again)",
        labels=["relay"],
    )
    for relay in all_relays():
        down.add_metric([relay.name], int(relay.down_until(redis) is not None))
    figures = [
        queues,
        GaugeMetricFamily("mobilise_workers", "RQ workers alive", value=Worker.count(connection=redis)),
        GaugeMetricFamily(
            "mobilise_events_waiting",
            "Opens and clicks waiting in Redis for a worker to write them",
            value=int(redis.get(WAITING) or 0),
        ),
        down,
    ]
    if (last := redis.get(LAST_TICK)) is not None:  # absent until a tick has run with this Redis
        figures.append(
            GaugeMetricFamily(
                "mobilise_tick_age_seconds",
                "Seconds since the last tick ended",
                value=max(0.0, time.time() - float(last)),
            )
        )
    return figures
