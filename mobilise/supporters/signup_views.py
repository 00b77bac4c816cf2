"""The public sign-up form and the confirmation page: no login, no CSRF token (the form lives on
offices' own sites too), throttled per address instead, with a honeypot field."""

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from ..errors import Invalid, LinkGone, NotFound
from ..extensions import limiter
from ..languages import UI_LANGUAGES, ui_language, use_language
from ..offices.service import get_office
from ..security import NO_STORE
from . import signup

signups = Blueprint("signup", __name__)


def _office(code: str):
    try:
        return get_office(code)
    except NotFound:
        abort(404)


def _wording(problem: dict) -> str:
    """A problem the service found, in the visitor's language."""
    if problem["field"] == "email":
        return gettext("Enter an email address such as name@example.org.")
    if problem["error"] == "too_long":
        return gettext("Use at most %(max)d characters.", max=problem["max"])
    if problem["error"] == "bad_characters":
        return gettext("This field holds characters that cannot be used.")
    return gettext("The form could not be used. Check it and send it again.")


def _page(office, status=200, problems=(), **context):
    use_language(ui_language(request.accept_languages.best_match(UI_LANGUAGES), office.language), office.code)
    context.setdefault("errors", {p["field"]: _wording(p) for p in problems})
    return (
        render_template(
            "pages/signup.html", office=office, honeypot=signup.HONEYPOT, page_language=g.page_language, **context
        ),
        status,
        NO_STORE,
    )


@signups.get("/subscribe/<code>")
def form(code: str):
    return _page(_office(code), form={}, errors={})


@signups.post("/subscribe/<code>")
@limiter.limit("5 per minute;30 per hour")
def subscribe(code: str):
    office = _office(code)
    try:
        signup.sign_up(office, request.form.to_dict(), request.remote_addr)
    except Invalid as error:
        # Worded after the page's language is chosen; a field the form does not show (language) is named at the top.
        return _page(office, 422, form=request.form, problems=error.details or [])
    return _page(office, 202, sent=True)


def _confirm_page(context):
    if context["state"] == "expired":
        office = context["office"]
        raise LinkGone(
            lazy_gettext(
                "This link has expired, or a newer email replaced it. Sign up again and use the link in the "
                "newest email."
            ),
            office=office,
            language=context["language"],
            again=(url_for("signup.form", code=office.code), lazy_gettext("Sign up again")),
        )
    use_language(ui_language(context["language"], context["office"].language), context["office"].code)
    return render_template("pages/confirm.html", page_language=g.page_language, **context), NO_STORE


@signups.get("/confirm/<token>")
def confirmation(token: str):
    context = signup.confirmation(token)
    if context is None:
        abort(404)
    return _confirm_page({**context, "token": token})


@signups.post("/confirm/<token>")
def confirm(token: str):
    context = signup.confirm(token, request.remote_addr)
    if context is None:
        abort(404)
    return _confirm_page({**context, "token": token})
