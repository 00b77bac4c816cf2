"""The service's own pages outside any domain: the favicon, and the error pages (403 in the console, 404, 410, 500).

A broken, cut or tampered link lands on a page in the visitor's language, branded, that leads on to cases they
can still act on: the office's when the URL names one (`?office=CODE`), else every office's. The API keeps its
JSON errors. The 500 page makes no query (the database may be what failed) and shows nothing of the error.
"""

import logging
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .api import PREFIX as API_PREFIX
from .api import http_error
from .extensions import db
from .languages import UI_LANGUAGES, reading_language, ui_language, use_language
from .offices.models import Office
from .security import NO_STORE
from .sequences.live import live_drives

log = logging.getLogger(__name__)

site = Blueprint("site", __name__)

LIVE_CASES_SHOWN = 5
FAVICON_MAX_AGE = 7 * 24 * 3600
# What is left if even the error page cannot render (a broken template or catalog): no template, no query.
LAST_RESORT = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
    'initial-scale=1"><title>Something went wrong</title><h1>Something went wrong</h1>'
    "<p>Please try again in a few minutes.</p></html>"
)


@site.get("/favicon.ico")
def favicon():
    # Every browser asks for it on every page; a week in its cache spares those requests.
    return Response(
        _icon(current_app.static_folder),
        mimetype="image/vnd.microsoft.icon",
        headers={"Cache-Control": f"public, max-age={FAVICON_MAX_AGE}"},
    )


@lru_cache(maxsize=1)
def _icon(folder: str) -> bytes:
    return (Path(folder) / "favicon.ico").read_bytes()


def _named_office() -> Office | None:
    code = (request.args.get("office") or "").strip().upper()
    if len(code) != 2 or not code.isalpha():
        return None
    return db.session.scalar(db.select(Office).where(Office.code == code))


def _live_cases(office: Office | None, language: str) -> list[dict]:
    """Links to the public pages of cases still open, each titled in the visitor's language where the case has it."""
    cases = []
    for drive in live_drives(office, limit=LIVE_CASES_SHOWN, prefer_language=language):
        case = drive.case
        reads_in = reading_language([language], case.languages(), case.language)
        # The case page opens in the language of the title that led there (the office's own needs no ?lang=).
        url = url_for(
            "cases.case_page",
            slug=case.slug,
            office=drive.office.code,
            lang=reads_in if reads_in != drive.office.language else None,
        )
        cases.append(
            {"title": case.content(reads_in)["title"], "language": reads_in, "url": url, "office": drive.office.name}
        )
    return cases


def _lookups(error: HTTPException) -> tuple[Office | None, list[dict] | None, str]:
    """The office, its live cases and the page's language; on a database failure, none of them (the page still shows)."""
    office = getattr(error, "office", None)
    wanted = [getattr(error, "language", None), request.accept_languages.best_match(UI_LANGUAGES)]
    try:
        office = office or _named_office()
        language = ui_language(*wanted, office.language if office else None)
        return office, _live_cases(office, language), language
    except SQLAlchemyError:
        log.warning("the error page lists no live cases: the database did not answer", exc_info=True)
        db.session.rollback()
        return None, None, ui_language(*wanted)


def _wording(code: int, error: HTTPException) -> dict:
    if code == 410:
        return {
            "heading": gettext("This link is no longer valid"),
            "message": getattr(error, "reason", None)
            or gettext("This link has done its work and cannot be used again."),
            "again": getattr(error, "again", None),
        }
    if code == 404:
        return {
            "heading": gettext("We could not find this page"),
            "message": gettext(
                "The link may be broken or cut short. If you copied it from an email, check that you copied all of it."
            ),
        }
    return {
        "heading": gettext("Something went wrong on our side"),
        "message": gettext("It is not something you did. Please try again in a few minutes."),
    }


def _in_console() -> bool:
    return request.path == "/" or request.path.startswith("/console/") or request.path == "/console"


def error_page(error: HTTPException):
    """The error page of 404, 410 and 500 (JSON under the API), and the console's 403 (a role below the page);
    Werkzeug's own answer for any other status."""
    if request.path.startswith(API_PREFIX + "/"):
        return http_error(error)
    code = error.code or 500
    if code == 403 and _in_console():
        # Staff, in English as the whole console: what they may not do, and the way back.
        return render_template("console/forbidden.html"), 403, NO_STORE
    if code not in (404, 410, 500):
        return error
    try:
        if code == 500:  # no query at all: the database may be the part that failed
            office, cases = None, None
            language = ui_language(request.accept_languages.best_match(UI_LANGUAGES))
        else:
            office, cases, language = _lookups(error)
        use_language(language, office.code if office else None)
        html = render_template(
            "pages/error.html",
            status=code,
            office=office,
            cases=cases,
            page_language=g.page_language,
            **_wording(code, error),
        )
    except Exception:  # the error page itself must not fail: a plain page, and the reason in the log
        log.exception("the error page of a %s could not render", code)
        html = LAST_RESORT
    return html, code, NO_STORE


def init_app(app: Flask) -> None:
    app.register_blueprint(site)
    app.register_error_handler(HTTPException, error_page)  # LinkGone too: it is a Gone
