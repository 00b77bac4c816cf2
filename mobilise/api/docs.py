"""/console/api: the API's description as a page for staff, rendered here from the same document.

Rendered on the server, so the console's CSP (nothing from another site, no inline script) holds.
"""

from flask import Blueprint, current_app, render_template
from flask_login import login_required

from ..auth.roles import requires
from .openapi import description_of

docs = Blueprint("api_docs", __name__)


def schema_name(schema: dict) -> str | None:
    """The component a `$ref` points to, by its name."""
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def type_of(schema: dict) -> str:
    """A schema as a reader says it: `string (date)`, `list of CaseOut`, `"live" or "closed"`."""
    if name := schema_name(schema):
        return name
    if "enum" in schema:
        return " or ".join(f'"{value}"' for value in schema["enum"])
    if "const" in schema:
        return f'"{schema["const"]}"'
    for combined in ("anyOf", "oneOf"):
        if combined in schema:
            return " or ".join(type_of(option) for option in schema[combined])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_of(schema['additionalProperties'])}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def rules_of(schema: dict) -> list[str]:
    """The limits a value must keep, in words."""
    words = {
        "minLength": "at least {} characters",
        "maxLength": "at most {} characters",
        "minimum": "≥ {}",
        "maximum": "≤ {}",
        "pattern": "matches {}",
        "minItems": "at least {} items",
        "maxItems": "at most {} items",
    }
    found = [text.format(schema[key]) for key, text in words.items() if key in schema]
    for option in schema.get("anyOf", ()):
        found += rules_of(option)
    return found


@docs.get("/console/api")
@login_required
@requires("read")
def api_docs():
    """Every call of the API, its parameters, body and answers."""
    description = description_of(current_app)
    return render_template(
        "console/api_docs.html",
        spec=description,
        schemas=description["components"]["schemas"],
        type_of=type_of,
        rules_of=rules_of,
        schema_name=schema_name,
    )
