"""No staff view is forgotten: every endpoint of the API and the console declares the permission it needs with
`@requires(...)`, so a view added without it fails here before anyone can reach it with a role below."""

from flask import Blueprint, Flask

from mobilise import create_app
from mobilise.api import PREFIX
from mobilise.auth.roles import PERMISSIONS, requires

# Reached without a staff sign-in (or only to sign in or out): no permission to declare.
PUBLIC = {"auth.login", "auth.sign_out_page", "auth.logout", "api_openapi.openapi"}


def staff_area(rule: str) -> bool:
    return rule == "/" or rule == "/console" or rule.startswith(("/console/", PREFIX + "/"))


def undeclared(app: Flask) -> list[str]:
    """The endpoints of every blueprint with a route in the staff's area (the API, /console, the home page)
    whose view has no permission: each of their routes, wherever its path, so a console blueprint cannot
    hide an undecorated view under another path."""
    rules = list(app.url_map.iter_rules())
    blueprints = {rule.endpoint.rpartition(".")[0] for rule in rules if staff_area(rule.rule) and "." in rule.endpoint}
    endpoints = {
        rule.endpoint for rule in rules if rule.endpoint.rpartition(".")[0] in blueprints or staff_area(rule.rule)
    } - PUBLIC
    return sorted(e for e in endpoints if getattr(app.view_functions[e], "permission", None) not in PERMISSIONS)


def test_every_api_and_console_view_declares_its_permission():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test"})
    blueprints = {rule.endpoint.partition(".")[0] for rule in app.url_map.iter_rules() if staff_area(rule.rule)}
    # The walk reaches each part of the staff's area (so it cannot pass by finding nothing).
    assert {
        "console",
        "actions",
        "people",
        "deliverability",
        "staff",
        "api_docs",
        "api_cases",
        "api_supporters",
        "api_offices",
        "api_deliverability",
    } <= blueprints
    assert undeclared(app) == []


def test_a_view_added_without_requires_is_caught():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test"})
    extra = Blueprint("forgotten", __name__)

    @extra.get("/console/forgotten")
    def forgotten():
        return "anyone signed in"

    @extra.get("/elsewhere")  # a console blueprint's view outside /console is still checked
    def elsewhere():
        return "anyone"

    @extra.get("/console/remembered")
    @requires("manage")
    def remembered():
        return "managers"

    app.register_blueprint(extra)
    assert undeclared(app) == ["forgotten.elsewhere", "forgotten.forgotten"]
