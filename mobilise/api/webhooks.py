"""An office's webhooks out through the API: receivers registered, listed, deleted, enabled again, and their log.

For the office's managers and admins. Not the providers' webhooks in (deliverability/webhooks.py).
"""

from flask import jsonify, request

from ..auth.roles import requires
from ..outbound import endpoints
from ..outbound.endpoints import WebhookIn
from ..validation import parse
from . import blueprint, read_json, scoped_office
from .openapi import documented
from .webhook_schemas import DeliveryPage, DeliveryQuery, WebhookCreated, WebhookOut

bp = blueprint("api_webhooks")
WEBHOOKS = ("webhooks",)


@bp.post("/offices/<code>/webhooks")
@documented({201: WebhookCreated}, body=WebhookIn, errors=(404,), tags=WEBHOOKS)
@requires("manage")
def add_webhook(code: str):
    """Register a receiver of some of the office's events: `action.created`, `supporter.unsubscribed`,
    `supporter.bounced`, `supporter.complained`. The answer's `secret` is shown this once.

    The URL must be https to a host that is and resolves to public addresses only (422 naming `url` otherwise,
    unless WEBHOOK_ALLOW_PRIVATE); at most 10 per office.
    """
    endpoint, secret = endpoints.register(scoped_office(code), read_json(dict))
    return jsonify({"id": endpoint.id, "secret": secret, "url": endpoint.url, "events": endpoint.events}), 201


@bp.get("/offices/<code>/webhooks")
@documented({200: list[WebhookOut]}, errors=(404,), tags=WEBHOOKS)
@requires("manage")
def webhooks(code: str):
    """The office's receivers: enabled or disabled (and why), failing since when, and their deliveries by status."""
    return jsonify(endpoints.list_endpoints(scoped_office(code)))


@bp.get("/offices/<code>/webhooks/<int:webhook_id>/deliveries")
@documented({200: DeliveryPage}, query=DeliveryQuery, errors=(404,), tags=WEBHOOKS)
@requires("manage")
def webhook_deliveries(code: str, webhook_id: int):
    """A receiver's delivery log, newest first, 50 a page; kept 30 days."""
    page = parse(DeliveryQuery, request.args.to_dict()).page
    return jsonify(endpoints.deliveries(scoped_office(code), webhook_id, page))


@bp.delete("/offices/<code>/webhooks/<int:webhook_id>")
@documented({204: None}, errors=(404,), tags=WEBHOOKS)
@requires("manage")
def delete_webhook(code: str, webhook_id: int):
    """Delete a receiver with its log; what it was still owed is not sent."""
    endpoints.delete(scoped_office(code), webhook_id)
    return "", 204


@bp.post("/offices/<code>/webhooks/<int:webhook_id>/enable")
@documented({200: WebhookOut}, errors=(404,), tags=WEBHOOKS)
@requires("manage")
def enable_webhook(code: str, webhook_id: int):
    """Turn a disabled receiver on again, from the next event: the deliveries that failed are not resent
    (read them in its log)."""
    return jsonify(endpoints.enable(scoped_office(code), webhook_id).to_dict())
