"""The first look at every request, before any view, form or service sees it.

A body over its route's limit answers 413 before it is read. A NUL character anywhere (query, form,
JSON), JSON nested deeper than any call needs, a number no column holds or a float that is not a number
answer 422 naming the field. No column of ours can store a NUL (PostgreSQL refuses it mid-transaction,
losing the good rows beside it), so refusing it here, once, keeps every later layer simple.
"""

import json
import math
from collections.abc import Iterator

from flask import Flask, current_app, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

JSON_MAX_DEPTH = 32
LARGEST_INTEGER = 2**63 - 1  # a BIGINT's; the models' own bounds are narrower where a column is
LARGEST_ID = 2**31 - 1  # ids are INTEGER columns
_BODY_SETTING = "_body_limit_setting"


def large_body(setting: str):
    """Let a view take a body up to the config value `setting` (an upload) instead of `MAX_BODY_BYTES`."""

    def mark(view):
        setattr(view, _BODY_SETTING, setting)
        return view

    return mark


class RowId(IntegerConverter):
    """`<int:…>` in a route: an id an INTEGER column can hold; past it the path matches nothing (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


class Refused(Exception):
    """Input no layer below may see: 422 with the fields that are wrong."""

    def __init__(self, details: list[dict]):
        super().__init__("invalid input")
        self.details = details


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class StrictJSON(DefaultJSONProvider):
    """JSON as the standard says: `NaN` and `Infinity` are malformed, not floats."""

    def loads(self, s, **kwargs):
        return json.loads(s, parse_constant=_refuse_constant, **kwargs)


def body_limit(req=None) -> int:
    req = req or request._get_current_object()
    view = req.endpoint and current_app.view_functions.get(req.endpoint)
    return int(current_app.config[getattr(view, _BODY_SETTING, "MAX_BODY_BYTES")])


def check_request() -> None:
    # Every request passes here, a pixel's too: the proxies are resolved once, and a request with no
    # query and no body (most of them) is done after its limit is set.
    req = request._get_current_object()
    limit = body_limit(req)
    # Werkzeug stops reading past it too, for a chunked body that names no length.
    req.max_content_length = limit
    length = req.content_length
    chunked = length is None and req.environ.get("wsgi.input_terminated")
    if not (req.args or length or chunked):
        return
    if length is not None and length > limit:
        raise RequestEntityTooLarge(f"the body is over this call's limit of {limit:,} bytes")
    if chunked:
        # Chunked, no length named: Werkzeug's reader stops quietly at the limit, which would leave
        # a view a truncated body; read it here (kept for the view) and refuse what reached the limit.
        if len(req.get_data(cache=True, parse_form_data=False)) >= limit:
            raise RequestEntityTooLarge(f"the body is over this call's limit of {limit:,} bytes")
    problems = [*_nul_in_pairs(req.args, "query"), *_nul_in_pairs(req.form, "form")]
    if req.is_json:
        problems += _json_problems()
    if problems:
        raise Refused(problems)


def _nul_in_pairs(pairs, where: str) -> Iterator[dict]:
    for key, value in pairs.items(multi=True):
        if "\x00" in key or "\x00" in value:
            yield {"field": key.replace("\x00", "") or where, "error": "must not contain a NUL character"}


def _json_problems() -> list[dict]:
    try:
        data = request.get_json(silent=True)  # cached: the view reads the same parse
    except RecursionError:
        return [{"field": None, "error": f"JSON is nested deeper than {JSON_MAX_DEPTH} levels"}]
    return list(json_problems(data)) if data is not None else []


def json_problems(data) -> Iterator[dict]:
    """Each NUL, too-deep nesting, out-of-range integer or non-finite float, by its dotted path; no recursion."""
    todo = [((), data)]
    while todo:
        path, value = todo.pop()
        if len(path) > JSON_MAX_DEPTH:
            yield {"field": _dotted(path), "error": f"is nested deeper than {JSON_MAX_DEPTH} levels"}
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    yield {
                        "field": _dotted((*path, key.replace("\x00", ""))),
                        "error": "must not contain a NUL character",
                    }
                else:
                    todo.append(((*path, key), item))
        elif isinstance(value, list):
            todo.extend(((*path, index), item) for index, item in enumerate(value))
        elif isinstance(value, str) and "\x00" in value:
            yield {"field": _dotted(path), "error": "must not contain a NUL character"}
        elif isinstance(value, bool):
            continue
        elif (
            isinstance(value, int)
            and abs(value) > LARGEST_INTEGER
            or isinstance(value, float)
            and not math.isfinite(value)
        ):
            yield {"field": _dotted(path), "error": "is out of range"}


def _dotted(path: tuple) -> str | None:
    """A field's name as the 422 gives it: made only for a field that is wrong, not for every value looked at."""
    return ".".join(map(str, path)) or None


def refused(error: Refused):
    if request.path.startswith("/api/"):
        return {"error": "invalid input", "details": error.details}, 422
    return render_template("pages/refused.html", details=error.details), 422


def too_large(error: RequestEntityTooLarge):
    if request.path.startswith("/api/"):
        return {"error": "the request body is too large", "details": {"limit": body_limit()}}, 413
    return render_template("pages/refused.html", too_large=True), 413


def init_app(app: Flask) -> None:
    """Before CSRF's check and every other hook, which read the form; before any route is added."""
    app.url_map.converters["int"] = RowId
    app.json = StrictJSON(app)
    app.before_request(check_request)
    app.register_error_handler(Refused, refused)
    app.register_error_handler(RequestEntityTooLarge, too_large)
