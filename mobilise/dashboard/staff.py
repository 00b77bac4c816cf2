"""/console/staff: an office's managers (and admins) add colleagues, change their roles and remove them.

The rules (own office only, never an admin, the last manager stays) are the auth service's; this page shows
its answers. A new colleague's password is shown once, on the page that follows the form, never in a URL or
a flashed message (the session cookie is signed, not encrypted).
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.roles import requires
from ..auth.service import add_colleague, change_role, list_staff, remove_staff
from ..errors import NotFound, ServiceError
from ..offices.service import list_offices
from ..security import NO_STORE
from .forms import ColleagueForm, RemoveForm, RoleForm
from .views import scope_office, signed_in

staff = Blueprint("staff", __name__, url_prefix="/console/staff")
staff.before_request(signed_in)  # staff only, as every console page


def _colleague_form() -> ColleagueForm:
    """An admin picks the office; a manager adds to their own, so their form has no office to pick."""
    form = ColleagueForm()
    if current_user.is_admin:
        form.office.choices = [(o.code, f"{o.code} — {o.name}") for o in list_offices()]
    else:
        del form.office
    return form


def _page(form: ColleagueForm | None = None, status: int = 200):
    office = scope_office()
    if form is None:
        form = _colleague_form()
        if office is not None and "office" in form:
            form.office.data = office.code
    return render_template(
        "console/staff.html",
        accounts=list_staff(current_user, office),
        office=office,
        form=form,
        role_form=RoleForm.of,
        remove_form=RemoveForm(),
        offices=list_offices() if current_user.is_admin else [],
    ), status


def _refused(error: ServiceError):
    """What the service refused, said on the page (a 409 or 422), or the console's 404."""
    if isinstance(error, NotFound):
        abort(404)
    flash(f"Not done: {error.message}.", "error")
    return _page(status=error.status)


@staff.get("")
@requires("manage")
def page():
    """The office's staff, with their roles; an admin sees every account, or one office's (?office=)."""
    return _page()


@staff.post("")
@requires("manage")
def add():
    """Add a colleague: the generated password is on the next page, once."""
    form = _colleague_form()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        made, password = add_colleague(
            current_user, form.email.data, form.role.data, form.office.data if "office" in form else None
        )
    except ServiceError as error:
        return _refused(error)
    return render_template("console/staff_added.html", account=made, password=password), 201, NO_STORE


@staff.post("/<int:staff_id>/role")
@requires("manage")
def role(staff_id: int):
    form = RoleForm.of(staff_id)
    if not form.validate_on_submit():
        abort(400)
    try:
        changed = change_role(current_user, staff_id, form.role.data)
    except ServiceError as error:
        return _refused(error)
    flash(f"{changed.email} is now {changed.role}.")
    return redirect(url_for("staff.page", office=request.args.get("office") or None))


@staff.post("/<int:staff_id>/remove")
@requires("manage")
def remove(staff_id: int):
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        email = remove_staff(current_user, staff_id)
    except ServiceError as error:
        return _refused(error)
    flash(f"{email} is removed: its sign-ins and API tokens no longer work.")
    return redirect(url_for("staff.page", office=request.args.get("office") or None))
