"""Supporters in the console: find people, and see one person's history. Only one's own office."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.roles import requires
from ..cases.models import Action, Case
from ..errors import ServiceError
from ..extensions import db
from ..guard import large_body
from ..offices.service import list_offices
from ..sending.models import Delivery
from ..sequences.models import Drive, Mailing
from ..supporters.imports import get_import, queue_import
from ..supporters.listing import list_supporters
from ..supporters.models import Supporter
from ..tracking.models import Event
from .views import office_or_404

people = Blueprint("people", __name__, url_prefix="/console/supporters")
COUNT_UP_TO = 1000  # a search's matches are counted this far, then "more than"


@people.errorhandler(RequestEntityTooLarge)
def too_large(error):
    if not current_user.is_authenticated:
        return error
    limit = current_app.config["IMPORT_MAX_BYTES"]
    message = (
        f"The file is larger than the {limit / 1024 / 1024:.0f} MB an import takes: split it, and import each part."
    )
    return _search_page(_office(), {"items": [], "total": 0, "page": 1, "per_page": 50, "error": message}, "", 413)


@people.before_request
@login_required
def signed_in():
    """Staff only."""


def _office():
    if not current_user.is_admin:
        return current_user.office
    if code := request.args.get("office"):
        return office_or_404(code)
    offices = list_offices()
    return offices[0] if offices else abort(404)


@people.get("/")
@requires("supporters")
def search():
    office = _office()
    q = request.args.get("q", "").strip()
    page, after = _number("page", 1), _number("after", None)
    status = 200
    try:
        found = list_supporters(
            office,
            q=q or None,
            status=request.args.get("status") or None,
            page=page if after is None else 1,
            per_page=50,
            after=after,
            # A broad search matches a large share of the list: counting every match would cost more than the page.
            count_up_to=COUNT_UP_TO if q else None,
        )
    except ServiceError as error:
        details = "; ".join(d["error"] for d in error.details or [] if isinstance(d, dict))
        found = {
            "items": [],
            "total": 0,
            "page": 1,
            "per_page": 50,
            "error": error.message + (f": {details}" if details else ""),
        }
        status = error.status
    return _search_page(office, found, q, status)


def _number(name: str, default):
    """A whole number from the query string, at least 1 (a page) or 0 (an id); anything else is the default."""
    try:
        return max(int(request.args[name]), 1 if name == "page" else 0)
    except (KeyError, ValueError):
        return default


def _search_page(office, found: dict, q: str, status: int = 200):
    return render_template(
        "console/supporters.html",
        office=office,
        found=found,
        q=q,
        offices=list_offices() if current_user.is_admin else [],
    ), status


@people.get("/<int:supporter_id>")
@requires("supporters")
def history(supporter_id: int):
    supporter = db.session.get(Supporter, supporter_id)
    if supporter is None or (not current_user.is_admin and supporter.office_id != current_user.office_id):
        abort(404)
    emails = db.session.execute(
        db.select(Delivery, Mailing, Case)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .join(Drive, Drive.id == Mailing.drive_id)
        .join(Case, Case.id == Drive.case_id)
        .where(Delivery.supporter_id == supporter.id)
        .order_by(Mailing.send_at.desc())
    ).all()
    events = db.session.execute(
        db.select(Event.delivery_id, Event.kind, Event.machine, Event.created_at)
        .join(Delivery, Delivery.id == Event.delivery_id)
        .where(Delivery.supporter_id == supporter.id)
        .order_by(Event.created_at)
    ).all()
    by_delivery: dict[int, list] = {}
    for delivery_id, kind, machine, at in events:
        by_delivery.setdefault(delivery_id, []).append((kind, machine, at))
    actions = db.session.execute(
        db.select(Action, Case).join(Case, Case.id == Action.case_id).where(Action.supporter_id == supporter.id)
    ).all()
    return render_template(
        "console/supporter.html", supporter=supporter, emails=emails, events=by_delivery, actions=actions
    )


@people.post("/import")
@requires("supporters")
@large_body("IMPORT_MAX_BYTES")  # a CSV: 413 past it, before the file is stored
def upload():
    """A CSV from the console: stored, handed to a worker, then its progress page."""
    office = _office()
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("Choose a CSV file to import.", "error")
        return redirect(url_for("people.search", office=office.code if current_user.is_admin else None))
    job = queue_import(office, file, file.filename)
    return redirect(url_for("people.import_progress", import_id=job.id))


@people.get("/imports/<int:import_id>")
@requires("supporters")
def import_progress(import_id: int):
    try:
        job = get_import(import_id, None if current_user.is_admin else {current_user.office_id})
    except ServiceError:
        abort(404)
    return render_template("console/import.html", job=job)
