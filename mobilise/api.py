"""The JSON API under /api/v1: bearer tokens, office scoping, and errors as JSON 4xx."""
from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from .auth.models import Staff
from .auth.service import office_for, staff_for_token
from .errors import BadRequest, Forbidden, ServiceError
from .offices.models import Office

api = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, message: str, details=None):
    return jsonify({"error": message, "details": details}), status


@api.before_request
def authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    staff = staff_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if staff is None:
        response, status = error(401, "a valid bearer token is required")
        return response, status, {"WWW-Authenticate": "Bearer"}
    g.staff = staff


@api.errorhandler(ServiceError)
def service_error(exc: ServiceError):
    return error(exc.status, exc.message, exc.details)


def http_error(exc: HTTPException):
    """JSON for API paths, including the routing errors (404, 405) no blueprint handler sees."""
    if request.path.startswith(api.url_prefix + "/"):
        return error(exc.code or 500, exc.description or exc.name)
    return exc


def current_staff() -> Staff:
    return g.staff


def admin_only() -> None:
    if not g.staff.is_admin:
        raise Forbidden("this call is for admins")


def scoped_office(code: str) -> Office:
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


def register_api(app: Flask) -> None:
    from .cases import api as cases_api  # noqa: F401  routes register on import
    from .offices import api as offices_api  # noqa: F401
    from .supporters import api as supporters_api  # noqa: F401

    app.register_blueprint(api)
    app.register_error_handler(HTTPException, http_error)
