"""Mobilise: turn Urgent Actions into action."""

import os
from pathlib import Path

from flask import Flask, request

from . import config as settings
from . import guard, logs, security
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from .languages import select_locale

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        # INSTANCE_PATH lets a second copy of the service (a test of scripts/run, a trial) keep its own files.
        instance_path=os.environ.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    logs.init_app(app)  # before any engine is made: no token, address or SQL parameter in a log line

    guard.init_app(app)  # first: its hook runs before any other reads the body
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "translations"),
    )

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)
    security.init_app(app)

    from . import (
        health,
        models,  # noqa: F401  every table, so Alembic and create_all see them
        site,
        sql,  # noqa: F401  SQLite's settings for several processes, on every connection
    )
    from .api import audit as audit_api
    from .api import cases as case_api
    from .api import deliverability as deliverability_api
    from .api import docs as api_docs
    from .api import offices as office_api
    from .api import openapi
    from .api import supporters as supporter_api
    from .api import webhooks as webhook_api
    from .auth.views import auth
    from .dashboard.actions import actions
    from .dashboard.audit import trail
    from .dashboard.case_form import case_form
    from .dashboard.deliverability import deliverability
    from .dashboard.preferences import choices
    from .dashboard.staff import staff
    from .dashboard.supporters import people
    from .dashboard.views import console
    from .dashboard.webhooks import webhooks_out
    from .deliverability.webhooks import webhooks
    from .supporters.signup_views import signups
    from .tracking.case_pages import pages as case_pages
    from .tracking.views import public
    from .tracking.visitor_views import visitors

    # The API authenticates by bearer token and the email links by signed token; neither uses a cookie.
    without_cookies = (
        office_api.bp,
        supporter_api.bp,
        case_api.bp,
        deliverability_api.bp,
        audit_api.bp,
        webhook_api.bp,
        openapi.bp,
        public,
        signups,
        visitors,
        webhooks,
    )
    for blueprint in (
        *without_cookies,
        case_pages,
        auth,
        console,
        actions,
        people,
        deliverability,
        choices,
        case_form,
        trail,
        webhooks_out,
        staff,
        api_docs.docs,
    ):
        app.register_blueprint(blueprint)
    for blueprint in without_cookies:
        csrf.exempt(blueprint)
    site.init_app(app)  # the favicon, and the error pages (JSON ones under the API)
    health.init_app(app)  # /healthz and /metrics, for the operator's tools
    # Only sign-in, sign-up and visitors' actions are throttled. A request filter is the limiter's first and
    # cheapest test: exempting blueprints instead costs every pixel ~40 µs of exemption lookups.
    limiter.request_filter(lambda: request.blueprint not in (auth.name, signups.name, visitors.name))

    from .languages import capitalised, dateformat, elided, name_of, names, of_office
    from .offices.themes import english_name, theme_name

    app.add_template_filter(name_of, "language_name")
    app.add_template_filter(dateformat)  # in place of Flask-Babel's, which it calls
    app.add_template_filter(capitalised)
    app.add_template_filter(theme_name)
    app.add_template_filter(english_name)
    app.add_template_filter(names)
    app.add_template_filter(elided)  # French "de Amnesty" → "d'Amnesty" in a translated sentence
    app.add_template_filter(of_office)
    app.context_processor(lambda: {"public_base_url": app.config["PUBLIC_BASE_URL"]})
    from .auth.roles import acting_staff, can

    # The console's pages show a button only to a role that may use it (the view refuses the others anyway).
    app.jinja_env.globals["can"] = lambda permission: can(acting_staff(), permission)

    from .cli import register_commands

    register_commands(app)
    return app
