"""An office's deliverability through the API: its reputation with the providers, and its suppression list."""

from flask import jsonify

from ..auth.roles import requires
from ..deliverability.reputation import reputation
from ..deliverability.suppressions import suppression_download
from . import blueprint, scoped_office
from .openapi import documented
from .schemas import ReputationOut

bp = blueprint("api_deliverability")
DELIVERABILITY = ("deliverability",)


@bp.get("/offices/<code>/reputation")
@documented({200: ReputationOut}, tags=DELIVERABILITY)
@requires("read")
def office_reputation(code: str):
    """Sent, hard bounces and complaints over the last 7 and 30 days, per provider and in total, rated.

    Each rate is marked ok, near or over against the providers' thresholds (complaints) and GUARD_BOUNCE_RATE
    (hard bounces); a rate with nothing sent is null.
    """
    return jsonify(reputation(scoped_office(code)))


@bp.get("/offices/<code>/suppressions")
@documented({200: None}, media="text/csv", tags=DELIVERABILITY)
@requires("export")
def office_suppressions(code: str):
    """Every supporter the office must not mail, as a CSV download: email, status, since, reason.

    Unsubscribed, bounced and complained supporters, oldest first, streamed; erased ones have no address left and
    are not listed. For JSON, page through `GET /offices/CODE/supporters?status=…`.
    """
    return suppression_download(scoped_office(code))
