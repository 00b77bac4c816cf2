"""What a process would otherwise do at its first request or job, done once as it starts.

After a launch every web process meets its first visitors at the same moment, on a machine busy sending: a
first action page that compiles its templates, loads its language's catalog and compiles its SQL waits many
times its usual time, and that wait is the page's worst case. Each job of a worker runs in a fork of it, so
what the worker loads before forking, every job inherits instead of redoing.
"""

import logging
import threading

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import configure_mappers

from .extensions import db
from .languages import UI_LANGUAGES, use_language

log = logging.getLogger(__name__)


def compile_templates(app: Flask, *folders: str) -> None:
    """Every template under `folders` compiled into the app's template cache."""
    env = app.jinja_env
    names = env.list_templates(filter_func=lambda name: name.startswith(tuple(f"{f}/" for f in folders)))
    for name in names:
        env.get_template(name)


def load_catalogs(app: Flask) -> None:
    """Each language's translations and CLDR data, read into the caches every request of the process shares."""
    from flask_babel import format_date, get_translations

    for language in UI_LANGUAGES:
        with app.test_request_context():
            use_language(language, None)
            get_translations().gettext("")
            format_date(None, "long")


def warm_web(app: Flask) -> threading.Thread:
    """Called by gunicorn in each web process before its first request (gunicorn.conf.py). The SQL is compiled
    by a thread of its own, which it returns: a database that does not answer must not hold up the process's
    start (gunicorn would kill a worker that takes longer than its timeout to start, again and again)."""
    configure_mappers()
    compile_templates(app, "pages", "console", "emails")
    load_catalogs(app)
    thread = threading.Thread(target=_compile_queries, args=(app,), name="mobilise-warm", daemon=True)
    thread.start()
    return thread


def _compile_queries(app: Flask) -> None:
    from .tracking.service import warm_queries

    with app.app_context():
        try:
            warm_queries()
        except SQLAlchemyError:  # the database away: the first visitor pays for it, nothing else changes
            log.warning("the web's queries were not compiled ahead: the database did not answer")
        finally:
            db.session.remove()
