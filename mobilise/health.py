"""What an operator's tools ask: `/healthz` for a load balancer or Docker, `/metrics` for Prometheus.

Neither uses a cookie or says anything about a person. `/healthz` answers fast even while Redis hangs (a client
that gives up after a second), so a check with a timeout of a few seconds reads a 503, not a timeout.
"""

import hmac
import logging

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .jobs import quick_redis
from .metrics import exposition

log = logging.getLogger(__name__)

health = Blueprint("health", __name__)

NOT_KEPT = {"Cache-Control": "no-store"}


@health.get("/healthz")
def healthz():
    parts = {"database": _database_state(), "redis": _redis_state()}
    return jsonify(parts), 200 if set(parts.values()) == {"ok"} else 503, NOT_KEPT


@health.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    if token and not _bearer_is(token):
        return (
            "a valid bearer token is required\n",
            401,
            {**NOT_KEPT, "WWW-Authenticate": "Bearer", "Content-Type": "text/plain; charset=utf-8"},
        )
    return Response(exposition(), headers={**NOT_KEPT, "Content-Type": CONTENT_TYPE_LATEST})


def _bearer_is(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time, so the answer's timing tells nothing of how much of a guess was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _database_state() -> str:
    try:
        db.session.execute(db.text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as error:
        log.warning("health: the database did not answer (%s)", type(error).__name__)
        db.session.rollback()
        return "down"


def _redis_state() -> str:
    try:
        quick_redis().ping()
        return "ok"
    except RedisError as error:
        log.warning("health: Redis did not answer (%s)", type(error).__name__)
        return "down"


def init_app(app: Flask) -> None:
    app.register_blueprint(health)
