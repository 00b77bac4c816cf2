"""Staff sign in and out of the console."""
import secrets
from functools import cache

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email

from ..extensions import db, limiter, login_manager
from .models import Staff

auth = Blueprint("auth", __name__)



@cache
def _unknown_staff_hash() -> str:
    """Checked when the address is unknown, so a wrong address costs as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16))


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField("Password", validators=[DataRequired()])


@login_manager.user_loader
def load_staff(staff_id: str) -> Staff | None:
    return db.session.get(Staff, int(staff_id)) if staff_id.isdigit() else None


def _failed(response) -> bool:
    return response.status_code == 401


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    form = LoginForm()
    if form.validate_on_submit():
        staff = db.session.scalar(db.select(Staff).where(Staff.email == form.email.data.strip().lower()))
        password_hash = staff.password_hash if staff else _unknown_staff_hash()
        if check_password_hash(password_hash, form.password.data) and staff is not None:
            login_user(staff)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("Wrong email or password.")
        return render_template("console/login.html", form=form), 401
    return render_template("console/login.html", form=form), 400 if form.errors else 200


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not send staff elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.home")


@auth.route("/logout", methods=["GET", "POST"])
@login_required
def logout():
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))
