"""The JSON API under /api/v1: bearer tokens, office scoping, and errors as JSON 4xx.

Each module here owns one part of the API on a blueprint of its own, made by `blueprint()` so that every
request to it is authenticated and every error answered as JSON; the factory registers them.
"""

import re

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..auth.models import Staff
from ..auth.service import office_for, staff_for_token
from ..errors import BadRequest, NotFound, ServiceError
from ..offices.models import Office

PREFIX = "/api/v1"
OFFICE_CODE = re.compile(r"[A-Za-z]{2}")


def error(status: int, message: str, details=None):
    return jsonify({"error": message, "details": details}), status


def blueprint(name: str) -> Blueprint:
    """A blueprint of the API: its routes under PREFIX, for a bearer token only, answering errors as JSON."""
    made = Blueprint(name, __name__, url_prefix=PREFIX)
    made.before_request(authenticate)
    made.teardown_request(forget_staff)
    made.register_error_handler(ServiceError, service_error)
    return made


def authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    staff = staff_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if staff is None:
        response, status = error(401, "a valid bearer token is required")
        return response, status, {"WWW-Authenticate": "Bearer"}
    g.staff = staff


def forget_staff(_exc=None) -> None:
    # `g` lives as long as the app context, which the code around a request may share (a test's, a CLI
    # command's): the token's account must not outlive its request and answer for the next one.
    g.pop("staff", None)


def service_error(exc: ServiceError):
    return error(exc.status, exc.message, exc.details)


def http_error(exc: HTTPException):
    """JSON for API paths, including the routing errors (404, 405) no blueprint handler sees."""
    if request.path.startswith(PREFIX + "/"):
        return error(exc.code or 500, exc.description or exc.name)
    return exc


def current_staff() -> Staff:
    return g.staff


def scoped_office(code: str) -> Office:
    """The office the token may see by this code; anything that is not a code names no office."""
    if not OFFICE_CODE.fullmatch(code):
        raise NotFound(f"no office {code[:20]!r}")
    return office_for(g.staff, code)


def staff_office() -> Office | None:
    """None for an admin (every office), else the staff member's own office."""
    return None if g.staff.is_admin else g.staff.office


def read_json(*kinds):
    """The request's JSON, or a 400 that says why it is not usable."""
    if not request.is_json:
        raise BadRequest("send JSON with Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("malformed JSON")
    if kinds and not isinstance(data, kinds):
        raise BadRequest(f"expected a JSON {' or '.join('object' if k is dict else 'array' for k in kinds)}")
    return data
