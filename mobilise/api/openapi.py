"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API, made from the models that validate it.

Each route names what it reads and answers with `@documented(...)`, the same pydantic classes it parses
with; `describe(app)` walks the app's URL map, so a route cannot be added without its description
(tests/test_openapi.py), and a field rule changed in a model changes the description with it.
"""

import inspect
import re
from dataclasses import dataclass, field
from typing import get_args, get_origin

from flask import Blueprint, Flask, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..auth.roles import held_by_every_role
from ..guard import LARGEST_ID as MAX_ID  # the `<int:…>` converter's bound: past it, no route matches
from . import PREFIX
from .schemas import ErrorOut

REF = "#/components/schemas/{model}"
ERRORS = {
    400: "not JSON, or not the JSON this call takes",
    401: "no valid bearer token",
    403: "a role below what this call needs",
    404: "no such thing, or not one this token may see",
    409: "the state of the thing does not allow it",
    413: "the body is over the service's limit",
    422: "a field is wrong: `details` lists each as {field, error}",
    503: "a service this call needs (the mail relay) is down; try again later",
}
OFFICE_CODE = {"type": "string", "pattern": "^[A-Za-z]{2}$", "description": "the office's code, e.g. GB"}


@dataclass(frozen=True)
class Doc:
    answers: dict
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body_or_list: bool = False  # one object or a list of them
    plain_text: bool = False  # also takes the body as text/plain
    multipart: type[BaseModel] | None = None
    media: str = "application/json"  # what a 2xx answers; any other type is described as text
    errors: tuple[int, ...] = ()
    public: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)


def documented(answers: dict, **described):
    """Record what a route reads and answers, for the description; the route itself is unchanged.

    Put above `@requires(...)`: a view whose permission some role lacks is described as answering 403.
    """

    def record(view):
        permission = getattr(view, "permission", None)
        refused = (403,) if permission is not None and not held_by_every_role(permission) else ()
        view.openapi = Doc(answers=answers, **{**described, "errors": (*described.get("errors", ()), *refused)})
        return view

    return record


def _models(doc: Doc):
    """(model, mode) pairs: requests as they validate, answers as they serialise."""
    for model in (doc.body, doc.multipart):
        if model is not None:
            yield model, "validation"
    for answer in doc.answers.values():
        model = get_args(answer)[0] if get_origin(answer) is list else answer
        if model is not None:
            yield model, "serialization"
    yield ErrorOut, "serialization"


def _without_null(schema: dict) -> dict:
    """A query parameter is absent or a string: never JSON null."""
    options = [s for s in schema.get("anyOf", ()) if s.get("type") != "null"]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**options[0], **rest}
    return {k: v for k, v in schema.items() if k != "default" or v is not None}


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(mode="validation", ref_template=REF)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _without_null(prop)}
        for name, prop in schema["properties"].items()
    ]


def _path(rule: str) -> tuple[str, list[dict]]:
    """Werkzeug's `/cases/<int:case_id>` as OpenAPI's `/cases/{case_id}`, with its parameters."""
    parameters = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int" else OFFICE_CODE
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), parameters


def _schema(model, refs: dict, mode: str) -> dict:
    if model is None:
        return {"type": "object"}
    if get_origin(model) is list:
        return {"type": "array", "items": refs[get_args(model)[0], mode]}
    return refs[model, mode]


def _operation(endpoint: str, view, doc: Doc, path_parameters: list[dict], refs: dict) -> dict:
    summary, _, description = (inspect.getdoc(view) or endpoint.replace("_", " ")).partition("\n")
    operation = {"operationId": endpoint, "summary": summary.strip(), "tags": list(doc.tags)}
    if description.strip():
        operation["description"] = description.strip()
    parameters = path_parameters + (_query_parameters(doc.query) if doc.query else [])
    if parameters:
        operation["parameters"] = parameters
    content = {}
    if doc.body is not None:
        one = refs[doc.body, "validation"]
        content["application/json"] = {
            "schema": {"anyOf": [one, {"type": "array", "items": one}]} if doc.body_or_list else one
        }
    if doc.plain_text:
        content["text/plain"] = {"schema": {"type": "string", "minLength": 1}}
    if doc.multipart is not None:
        content["multipart/form-data"] = {"schema": refs[doc.multipart, "validation"]}
    if content:
        operation["requestBody"] = {"required": True, "content": content}
    answer = (
        (lambda model: _schema(model, refs, "serialization"))
        if doc.media == "application/json"
        else (lambda model: {"type": "string"})
    )
    responses = {
        str(status): {
            "description": "OK" if status < 300 else "accepted",
            "content": {doc.media: {"schema": answer(model)}},
        }
        for status, model in doc.answers.items()
    }
    statuses = set(doc.errors) | {422}
    if not doc.public:
        statuses.add(401)
        operation["security"] = [{"bearer": []}]
    else:
        operation["security"] = []
    if path_parameters:
        statuses.add(404)
    if content:
        statuses |= {400, 413}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": ERRORS[status],
            "content": {"application/json": {"schema": refs[ErrorOut, "serialization"]}},
        }
    operation["responses"] = responses
    return operation


def describe(app: Flask) -> dict:
    """The OpenAPI 3.1 document of every documented route under PREFIX."""
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        if rule.rule.startswith(PREFIX + "/") and hasattr(view, "openapi"):
            routes.append((rule, view))
    wanted = sorted({pair for _, view in routes for pair in _models(view.openapi)}, key=lambda p: (p[0].__name__, p[1]))
    refs, top = models_json_schema(wanted, ref_template=REF)
    paths: dict = {}
    for rule, view in routes:
        path, parameters = _path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, view, view.openapi, parameters, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mobilise API",
            "version": "1",
            "description": "Urgent Action email drives: offices, supporters, cases and their counts.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a token from `flask staff token EMAIL`"}
            },
        },
    }


def description_of(app: Flask) -> dict:
    """Made once per app: the routes and models do not change while it runs."""
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = describe(app)
    return app.extensions["openapi"]


bp = Blueprint("api_openapi", __name__, url_prefix=PREFIX)


@bp.get("/openapi.json")
@documented({200: None}, public=True, tags=("description",))
def openapi():
    """This description of the API (no token needed)."""
    return jsonify(description_of(current_app))
