"""The links inside emails: public, no login, a token in the path and nothing personal."""

import base64

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from ..languages import ui_language, use_language
from ..security import NO_STORE
from . import next_step, preferences, service

public = Blueprint("public", __name__)

# The smallest transparent GIF: 1×1, one colour.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@public.get("/o/<token>.gif")
def open_pixel(token: str):
    if not service.record_open(token, request.user_agent.string, request.remote_addr):
        return b"", 404, NO_STORE  # an image: no page to read, and no lookup of live cases for it
    return PIXEL, 200, {"Content-Type": "image/gif", **NO_STORE}


@public.get("/c/<token>")
def click(token: str):
    target = service.record_click(token, request.user_agent.string, request.remote_addr)
    if target is None:
        abort(404)
    return redirect(target, code=302), {**NO_STORE}


def _page(template: str, token: str, context: dict):
    """A page in the supporter's language: the case's text in it, and our wording when we have it."""
    use_language(
        ui_language(context.get("page_language") or context["supporter"].language, context["office"].language),
        context["office"].code,
    )
    # The page's lang is the case text's when it shows one (the action page), else our wording's.
    return render_template(template, token=token, **{"page_language": g.page_language, **context}), {**NO_STORE}


def _act_or_thanks(token: str, context: dict):
    """The action page until the supporter has acted, then the thanks page with its next steps (on a reload too)."""
    if context["acted"] and context["case"].status != "closed":
        context.update(
            office_count=next_step.office_count(context["drive"].id),
            next_case=next_step.next_case(context["supporter"], context["office"], context["case"]),
        )
        return _page("pages/thanks.html", token, context)
    case = context["case"]
    context.update(
        print_url=url_for(
            "cases.printable_letter", slug=case.slug, office=context["office"].code, lang=context["page_language"]
        ),
        # Where the page's script reports a way to send opened; a high-risk case records nothing.
        steps=None if case.high_risk else url_for("public.action_page", token=token) + "/steps/",
    )
    return _page("pages/act.html", token, context)


@public.get("/act/<token>")
def action_page(token: str):
    context = service.action_context(token)
    if context is None:
        abort(404)
    service.record_visit(context, request.user_agent.string, request.remote_addr)
    return _act_or_thanks(token, context)


@public.post("/act/<token>")
def confirm_action(token: str):
    context = service.record_action(token)
    if context is None:
        abort(404)
    return _act_or_thanks(token, context)


@public.post("/act/<token>/steps/<any(email, gmail, outlook, print, copy):way>")
def step(token: str, way: str):
    """The page's script tells us a way to send was opened: a click, never an action (only the supporter says that)."""
    context = service.action_context(token)
    if context is None:
        abort(404)
    service.record_visit(context, request.user_agent.string, request.remote_addr)
    return "", 204, {**NO_STORE}


@public.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    context = service.unsubscribe_context(token)
    if context is None:
        abort(404)
    return _page("pages/unsubscribe.html", token, {**context, "done": False})


@public.post("/unsubscribe/<token>")
def unsubscribe(token: str):
    # RFC 8058 one-click: mail providers POST here with no cookie and expect a 200, not a redirect.
    context = service.unsubscribe(token, request.remote_addr)
    if context is None:
        abort(404)
    return _page("pages/unsubscribe.html", token, {**context, "done": True})


@public.get("/preferences/<token>")
def preferences_page(token: str):
    context = preferences.preferences_context(token)
    if context is None:
        abort(404)
    return _page("pages/preferences.html", token, {**context, "saved": False, "error": None})


@public.post("/preferences/<token>")
def save_preferences(token: str):
    """Saves and answers 200 with the page as saved (never a redirect: the contract's answer to a POST)."""
    context = preferences.preferences_context(token)
    if context is None:
        abort(404)
    try:
        chosen = preferences.read_form(request.form, context)
    except preferences.BadChoice as bad:
        page, headers = _page("pages/preferences.html", token, {**context, "saved": False, "error": bad})
        return page, 422, headers
    preferences.save(context, chosen, request.remote_addr)
    saved = preferences.preferences_context(token) or abort(404)  # read again: the page shows what is stored
    return _page("pages/preferences.html", token, {**saved, "saved": True, "error": None})
