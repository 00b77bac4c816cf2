"""A visitor of the public case page acts: the form's POST, and the page of the link in their email.

No login and no CSRF token (the case page may be embedded in an office's site): the form is throttled per
network address like the sign-up, with the same honeypot. The form's answer is the same whatever happened.
"""

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import lazy_gettext

from ..cases.service import get_case_by_slug
from ..errors import Invalid, LinkGone, NotFound
from ..extensions import db, limiter
from ..languages import reading_language, use_language
from ..offices.models import Office
from ..security import NO_STORE
from ..sequences.models import Drive
from ..supporters.signup import HONEYPOT
from ..supporters.signup_views import _wording as wording
from ..supporters.visitors import ask_to_act
from . import visitors as service

visitors = Blueprint("visitors", __name__)


def _case_and_office(slug: str):
    """The case and the office that launched it (`?office=CODE`); 404 for either unknown, or no drive of it."""
    try:
        case = get_case_by_slug(slug)
    except NotFound:
        abort(404)
    code = (request.args.get("office") or "").upper()
    office = db.session.scalar(db.select(Office).where(Office.code == code)) if code else None
    if (
        office is None
        or db.session.scalar(db.select(Drive.id).where(Drive.case_id == case.id, Drive.office_id == office.id)) is None
    ):
        abort(404)
    return case, office


@visitors.post("/cases/<slug>/actions")
@limiter.limit("5 per minute;30 per hour")
def act(slug: str):
    case, office = _case_and_office(slug)
    # The case page's rule: the language the page was read in (`?lang=`), else the office's.
    language = reading_language([request.args.get("lang"), office.language], case.languages(), case.language)
    use_language(language, office.code)
    page = {
        "case": case,
        "office": office,
        "content": case.content(language),
        "page_language": language,
        "honeypot": HONEYPOT,
    }
    if case.status != "live":
        return render_template("pages/visitor_request.html", state="closed", **page), 409, NO_STORE
    try:
        ask_to_act(office, case.id, request.form.to_dict(), request.remote_addr, language)
    except Invalid as error:
        errors = {p["field"]: wording(p) for p in error.details or []}
        return (
            render_template("pages/visitor_request.html", state="form", form=request.form, errors=errors, **page),
            422,
            NO_STORE,
        )
    return render_template("pages/visitor_request.html", state="sent", **page), 202, NO_STORE


def _link_page(slug: str, token: str, context: dict | None):
    if context is None or context["case"].slug != slug:
        abort(404)
    office, language = context["office"], context["page_language"]
    if context["state"] in ("expired", "closed"):  # the service's one 410 page, leading to the office's live cases
        reason = (
            lazy_gettext("This case is closed: actions are no longer counted.")
            if context["state"] == "closed"
            else lazy_gettext("Fill in the form on the case page again and use the link in the newest email.")
        )
        again = (
            url_for("cases.case_page", slug=slug, office=office.code, lang=language),
            lazy_gettext("Back to the case"),
        )
        raise LinkGone(reason, office=office, language=language, again=again)
    use_language(language, office.code)
    return render_template("pages/visitor_confirm.html", token=token, **context), 200, NO_STORE


@visitors.get("/cases/<slug>/actions/<token>")
def confirmation(slug: str, token: str):
    return _link_page(slug, token, service.visitor_context(token))


@visitors.post("/cases/<slug>/actions/<token>")
def confirm(slug: str, token: str):
    # Looked at before anything is written: a token for another case's path changes nothing.
    context = service.visitor_context(token)
    if context is None or context["case"].slug != slug:
        abort(404)
    return _link_page(slug, token, service.confirm_visitor_action(token, request.remote_addr))
