"""Staff sign in and out of the console.

A session is a signed cookie, so signing out cannot delete it everywhere it was copied: it ends it instead,
by moving the account's session version on (see `Staff.get_id`). Signing out takes a POST with the form's
CSRF token, so another site cannot sign staff out with a link or an image.
"""

import secrets
from functools import cache

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from ..audit.service import record
from ..extensions import db, limiter, login_manager
from .models import Staff
from .redirects import local_path
from .service import end_sessions, staff_for_session

auth = Blueprint("auth", __name__)


@cache
def _unknown_staff_hash() -> str:
    """Checked when the address is unknown, so a wrong address costs as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16))


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320), Email(check_deliverability=False)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class SignOutForm(FlaskForm):
    """Only its CSRF token: proof that the sign-out came from our own page."""


@login_manager.user_loader
def load_staff(session_id: str) -> Staff | None:
    return staff_for_session(session_id)


def _failed(response) -> bool:
    return response.status_code == 401


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    form = LoginForm()
    if form.validate_on_submit():
        tried = form.email.data.strip().lower()
        staff = db.session.scalar(db.select(Staff).where(Staff.email == tried))
        password_hash = staff.password_hash if staff else _unknown_staff_hash()
        if check_password_hash(password_hash, form.password.data) and staff is not None:
            login_user(staff)
            record("signin")
            db.session.commit()  # a sign-in writes nothing else: its entry is committed alone
            return redirect(local_path(request.args.get("next")) or url_for("console.home"))
        # The address tried, as typed: an office's manager sees attempts on its staff, an admin all of them.
        record("signin.failed", actor=tried, office=staff.office_id if staff else None)
        db.session.commit()
        form.password.errors.append("Wrong email or password.")
        return render_template("console/login.html", form=form), 401
    return render_template("console/login.html", form=form), 400 if form.errors else 200


@auth.get("/logout")
def sign_out_page():
    """A link to /logout asks; it never signs out by itself."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("console/logout.html", form=SignOutForm())


@auth.post("/logout")
@login_required
def logout():
    # CSRFProtect has already refused a POST without the page's token (400).
    record("signout")  # committed by end_sessions, with the sessions' end
    end_sessions(current_user)
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))
