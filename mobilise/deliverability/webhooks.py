"""The providers' webhooks: each provider's module verifies the request and reads its events into `Report`s;
`feedback.record` applies each once. Nothing is recorded unless the whole request verifies."""

import logging

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import ServiceError
from . import mailgun, postmark, sendgrid, ses
from .feedback import record

log = logging.getLogger(__name__)

webhooks = Blueprint("webhooks", __name__, url_prefix="/webhooks")
PROVIDERS = {"ses": ses, "sendgrid": sendgrid, "mailgun": mailgun, "postmark": postmark}


@webhooks.post("/<any(ses, sendgrid, mailgun, postmark):provider>")
def receive(provider: str):
    """Answers 200 with what became of the events (a provider retries anything else), 401/403 unverified."""
    reports = PROVIDERS[provider].reports(request.headers, request.get_data(cache=False), current_app.config)
    outcomes = {"recorded": 0, "duplicate": 0, "unknown": 0}
    for report in reports:
        outcomes[record(report)] += 1
    return jsonify(outcomes)


@webhooks.errorhandler(ServiceError)
def refused(error: ServiceError):
    # The reason only: a provider's body can hold addresses.
    log.warning("webhook %s refused (%s): %s", request.path, error.status, error.message)
    headers = (
        {"WWW-Authenticate": 'Basic realm="postmark"'} if error.status == 401 and "postmark" in request.path else {}
    )
    return jsonify({"error": error.message}), error.status, headers


@webhooks.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return jsonify({"error": error.description or error.name}), error.code or 500
