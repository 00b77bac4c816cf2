"""The case's country and themes in the console: what supporters who chose regions or themes get it by.

Admins correct them here (as `PATCH /api/v1/cases/ID` does); the region is read from the country, never typed.
"""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import login_required

from ..auth.roles import requires
from ..cases.service import edit_case
from ..errors import ServiceError
from . import views
from .views import case_or_404

case_form = Blueprint("case_form", __name__)


@case_form.before_request
@login_required
def signed_in():
    """Staff only."""


@case_form.post("/console/cases/<int:case_id>/classification")
@requires("admin")
def classify(case_id: int):
    case = case_or_404(case_id)
    themes = request.form.getlist("themes")
    themes += [word.strip().lower() for word in request.form.get("other_themes", "").split(",") if word.strip()]
    data = {"country": request.form.get("country", "").strip() or None, "themes": themes}
    try:
        edit_case(case, data)
    except ServiceError as error:
        details = "; ".join(f"{d.get('field')}: {d.get('error')}" for d in error.details or [] if isinstance(d, dict))
        flash(f"Not saved: {error.message}{' (' + details + ')' if details else ''}.", "error")
        return views.case(case_id), error.status  # the case page again, the message atop it
    flash("Saved the country and themes.")
    return redirect(url_for("console.case", case_id=case.id)), 303
