"""An office's receivers: registered under the SSRF rules, listed with their state, deleted, enabled again."""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from ..audit.service import record
from ..errors import Invalid, NotFound
from ..extensions import db
from ..offices.models import Office
from ..validation import Strict, parse
from . import safety
from .models import EVENTS, WebhookDelivery, WebhookEndpoint
from .signing import new_secret

MAX_ENDPOINTS = 10  # per office
PER_PAGE = 50


class WebhookIn(Strict):
    url: str = Field(
        max_length=safety.MAX_URL, description="https://, to a public address (unless WEBHOOK_ALLOW_PRIVATE)"
    )
    events: list[Literal[EVENTS]] = Field(min_length=1, max_length=len(EVENTS))


def register(office: Office, data) -> tuple[WebhookEndpoint, str]:
    """A new receiver of these events and its secret, which is shown once: to this answer."""
    wanted = parse(WebhookIn, data)
    try:
        safety.target(wanted.url)
    except safety.Unsafe as refused:
        raise Invalid("the URL is refused", [{"field": "url", "error": str(refused)}]) from None
    count = db.session.scalar(
        db.select(db.func.count(WebhookEndpoint.id)).where(WebhookEndpoint.office_id == office.id)
    )
    if count >= MAX_ENDPOINTS:
        raise Invalid(
            f"an office has at most {MAX_ENDPOINTS} webhooks",
            [{"field": "url", "error": f"delete one of the {MAX_ENDPOINTS} first"}],
        )
    endpoint = WebhookEndpoint(
        office_id=office.id,
        url=wanted.url,
        events=list(dict.fromkeys(wanted.events)),
        secret=new_secret(),
        enabled=True,
    )
    db.session.add(endpoint)
    db.session.flush()
    record("webhook.created", subject=endpoint.id, office=office, details=_audited(endpoint))
    db.session.commit()
    return endpoint, endpoint.secret


def _audited(endpoint: WebhookEndpoint) -> dict:
    # The receiver's host and events, never its whole URL: a CRM's URL often carries a key in its path or query.
    return {"host": urlsplit(endpoint.url).hostname, "events": list(endpoint.events)}


def endpoint_of(office: Office, endpoint_id: int) -> WebhookEndpoint:
    """The office's receiver by id; another office's is not found (nor seen to exist)."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.office_id != office.id:
        raise NotFound(f"no webhook {endpoint_id}")
    return endpoint


def list_endpoints(office: Office) -> list[dict]:
    """Each receiver with its state and how many of its deliveries are in each status."""
    endpoints = db.session.scalars(
        db.select(WebhookEndpoint).where(WebhookEndpoint.office_id == office.id).order_by(WebhookEndpoint.id)
    ).all()
    counted = db.session.execute(
        db.select(WebhookDelivery.endpoint_id, WebhookDelivery.status, db.func.count(WebhookDelivery.id))
        .where(WebhookDelivery.endpoint_id.in_([e.id for e in endpoints]))
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)
    ).all()
    counts = {e.id: {"pending": 0, "delivered": 0, "failed": 0} for e in endpoints}
    for endpoint_id, status, number in counted:
        counts[endpoint_id][status] = number
    return [{**e.to_dict(), "deliveries": counts[e.id]} for e in endpoints]


def delete(office: Office, endpoint_id: int) -> None:
    """The receiver gone, and its log with it: what it was still owed is never sent."""
    endpoint = endpoint_of(office, endpoint_id)
    db.session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    record("webhook.deleted", subject=endpoint.id, office=office, details=_audited(endpoint))
    db.session.delete(endpoint)
    db.session.commit()


def enable(office: Office, endpoint_id: int) -> WebhookEndpoint:
    """A disabled receiver on again, from the next event on: the deliveries failed meanwhile are not resent."""
    endpoint = endpoint_of(office, endpoint_id)
    if not endpoint.enabled:  # an enabled one keeps its failing_since: enabling it again must not reset the day
        record("webhook.enabled", subject=endpoint.id, office=office, details=_audited(endpoint))
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = (
            True,
            None,
            None,
            None,
        )
    db.session.commit()
    return endpoint


def deliveries(office: Office, endpoint_id: int, page: int = 1, per_page: int = PER_PAGE) -> dict:
    """The receiver's delivery log, newest first, a page at a time."""
    endpoint = endpoint_of(office, endpoint_id)
    rows = db.session.scalars(
        db.select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    return {
        "items": [row.to_dict() for row in rows[:per_page]],
        "page": page,
        "per_page": per_page,
        "more": len(rows) > per_page,
    }


def office_deliveries(office: Office, page: int = 1, per_page: int = PER_PAGE) -> dict:
    """Every receiver's deliveries for the office, newest first, a page at a time (the console's log)."""
    rows = db.session.execute(
        db.select(WebhookDelivery, WebhookEndpoint.url)
        .join(WebhookEndpoint)
        .where(WebhookEndpoint.office_id == office.id)
        .order_by(WebhookDelivery.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    return {
        "items": [{**row.to_dict(), "url": url} for row, url in rows[:per_page]],
        "page": page,
        "per_page": per_page,
        "more": len(rows) > per_page,
    }
