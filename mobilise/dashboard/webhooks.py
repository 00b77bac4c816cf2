"""An office's webhooks out in the console: its receivers (added, deleted, enabled again) and the delivery log.
For the office's managers and admins; an admin picks the office."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.roles import requires
from ..errors import ServiceError
from ..offices.service import list_offices
from ..outbound import endpoints
from ..outbound.models import EVENTS
from ..security import NO_STORE
from .views import scope_office, signed_in

webhooks_out = Blueprint("webhooks_out", __name__, url_prefix="/console/webhooks")
webhooks_out.before_request(signed_in)  # staff only, as every console page


def _page_number() -> int:
    value = request.args.get("page", "1")
    return min(int(value), 10**6) if value.isdigit() and int(value) > 0 else 1


def _show(office, *, created=None, errors=None, form=None, status=200):
    # The page that shows a new receiver's secret is kept by no cache or browser history.
    headers = NO_STORE if created else {}
    if office is None:  # an admin who has not picked an office yet
        return render_template("console/webhooks.html", office=None, offices=list_offices()), status
    return (
        render_template(
            "console/webhooks.html",
            office=office,
            offices=list_offices() if current_user.is_admin else [],
            receivers=endpoints.list_endpoints(office),
            log=endpoints.office_deliveries(office, _page_number()),
            events=EVENTS,
            created=created,
            errors=errors or {},
            form=form or {},
            office_arg=office.code if current_user.is_admin else None,
        ),
        status,
        headers,
    )


@webhooks_out.get("")
@requires("manage")
def page():
    return _show(scope_office())


@webhooks_out.post("")
@requires("manage")
def add():
    office = scope_office()
    if office is None:
        return _show(None, status=404)
    form = {"url": request.form.get("url", "").strip(), "events": request.form.getlist("events")}
    try:
        endpoint, secret = endpoints.register(office, form)
    except ServiceError as error:
        errors = {}
        for item in error.details or [{"field": "url", "error": error.message}]:
            errors.setdefault((item.get("field") or "url").split(".")[0], item["error"])
        return _show(office, errors=errors, form=form, status=error.status)
    return _show(office, created={"id": endpoint.id, "url": endpoint.url, "secret": secret}, status=201)


@webhooks_out.post("/<int:webhook_id>/delete")
@requires("manage")
def delete(webhook_id: int):
    office = _office_or_404()
    _or_404(endpoints.delete, office, webhook_id)
    flash("The webhook is deleted; what it was still owed will not be sent.")
    return redirect(url_for("webhooks_out.page", office=request.args.get("office")))


@webhooks_out.post("/<int:webhook_id>/enable")
@requires("manage")
def enable(webhook_id: int):
    office = _office_or_404()
    _or_404(endpoints.enable, office, webhook_id)
    flash("The webhook is on again from the next event; the deliveries that failed are not resent.")
    return redirect(url_for("webhooks_out.page", office=request.args.get("office")))


def _office_or_404():
    return scope_office() or abort(404)


def _or_404(action, office, webhook_id: int):
    try:
        return action(office, webhook_id)
    except ServiceError:
        abort(404)
