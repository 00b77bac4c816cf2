"""The audit trail in the console: who did what, when, from which network. An office's manager sees their
office's entries; an admin every office's, or one picked."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from ..audit.service import actions_recorded, list_entries
from ..auth.roles import requires
from ..offices.service import list_offices
from .views import local_time, scope_office

trail = Blueprint("trail", __name__, url_prefix="/console/audit")
PER_PAGE = 50


@trail.before_request
@login_required
def signed_in():
    """Staff only."""


@trail.get("")
@requires("manage")
def page():
    office = scope_office()  # a manager's own office (another asked is a 404); an admin's pick, or all
    office_id = office.id if office is not None else None
    action = request.args.get("action") or None
    try:
        number = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        number = 1
    found = list_entries(office_id=office_id, action=action, page=number, per_page=PER_PAGE)
    # Each entry at its office's time; an entry of no office (an admin's act on none) in UTC.
    rows = [(entry, local_time(entry.at, entry.office.timezone if entry.office else "UTC")) for entry in found["items"]]
    return render_template(
        "console/audit.html",
        found=found,
        rows=rows,
        office=office,
        action=action,
        actions=actions_recorded(office_id),
        offices=list_offices() if current_user.is_admin else [],
    )
