"""What staff do to a case from the console. Each action shows what it will send, to how many, and waits for a yes."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.roles import can, requires
from ..cases.service import edit_case
from ..errors import Conflict, ServiceError
from ..extensions import db
from ..languages import name_of
from ..offices.service import get_office, list_offices
from ..sending.preview import preview
from ..sending.service import resume_mailing, visible_mailing
from ..sequences.dispatch import start_drive
from ..sequences.lifecycle import apply_change
from ..sequences.models import Drive
from ..sequences.service import audience_size
from ..validation import language_code
from .forms import CloseForm, ConfirmForm, ExtendForm, LaunchForm, TranslationForm, UpdateForm
from .translations import FIELD_LABELS, language_status, launch_audience
from .views import case_or_404, signed_in

actions = Blueprint("actions", __name__)
actions.before_request(signed_in)  # staff only, as every console page


def _shown_again(form) -> int:
    """A form sent with mistakes comes back with them marked, as a 422; the first visit is a 200."""
    return 422 if form.is_submitted() else 200


@actions.route("/console/cases/<int:case_id>/launch", methods=["GET", "POST"])
@requires("campaign")
def launch(case_id: int):
    case = case_or_404(case_id)
    form = LaunchForm()
    offices = list_offices() if current_user.is_admin else [current_user.office]
    form.office.choices = [(o.code, f"{o.code} — {o.name}") for o in offices]
    if not form.is_submitted():
        # An office's staff launch for their own; an admin back from translating finds the office they chose.
        asked = request.args.get("office", "").upper()
        form.office.data = (
            current_user.office.code
            if not current_user.is_admin
            else (asked if asked in {o.code for o in offices} else None)
        )
    if not form.validate_on_submit():
        chosen = next((o for o in offices if o.code == form.office.data), None)
        audience = launch_audience(case, chosen) if chosen else None  # before any filter: they are chosen here
        return render_template(
            "console/launch.html", case=case, form=form, step="form", office=chosen, audience=audience
        ), _shown_again(form)
    office = get_office(form.office.data)
    if not current_user.is_admin and office.id != current_user.office_id:
        abort(404)
    drive = Drive(
        deadline=form.deadline.data or case.deadline,
        tags=form.tag_list(),
        languages=form.language_list(),
        own_deadline=False,
    )
    drive.case, drive.office = case, office
    size = audience_size(drive, "all")
    if size == 0:
        form.tags.errors.append("No subscribed supporter of this office matches: the launch would reach no one.")
        return render_template("console/launch.html", case=case, form=form, step="form", office=office), 422
    if form.confirm.data != "yes":
        email = preview(case, office, {"stage": "launch"})
        audience = launch_audience(case, office, tags=form.tag_list(), languages=form.language_list())
        form.confirm.data = "yes"  # the confirmation page's button says yes
        return render_template(
            "console/launch.html",
            case=case,
            form=form,
            step="confirm",
            office=office,
            size=size,
            email=email,
            audience=audience,
        )
    data = {"office": office.code, "tags": form.tag_list(), "languages": form.language_list()}
    if form.deadline.data:
        data["deadline"] = form.deadline.data.isoformat()
    try:
        start_drive(case, office, data)
    except ServiceError as error:
        flash(f"Not launched: {error.message}.", "error")
        return render_template("console/launch.html", case=case, form=form, step="form"), error.status
    flash(f"Launched for {office.code}: the email is on its way to {size} supporters.")
    return redirect(url_for("console.case", case_id=case.id, office=office.code if current_user.is_admin else None))


CHANGES = {
    "update": (UpdateForm, "all", "Post an update", "update"),
    "extend": (ExtendForm, "not_acted", "Extend the deadline", "extension"),
    "close": (CloseForm, "acted", "Close the case", "outcome"),
}


@actions.route("/console/cases/<int:case_id>/<any(update, extend, close):change>", methods=["GET", "POST"])
@requires("admin")
def change(case_id: int, change: str):
    """Update, extension and closure: admins only, as through the API."""
    case = case_or_404(case_id)
    form_class, audience, title, stage = CHANGES[change]
    form = form_class()
    # The staff's words in each other language the case reads in: a reader whose language lacks them gets the
    # whole email in the case's own language (never a French email with an English paragraph).
    words = {code: request.form.get(f"body_{code}", "").strip() for code in sorted(case.languages() - {case.language})}
    page = {"case": case, "form": form, "change": change, "title": title, "words": words}
    if not form.validate_on_submit():
        return render_template("console/change.html", **page, step="form"), _shown_again(form)
    drives = db.session.scalars(db.select(Drive).where(Drive.case_id == case.id)).all()
    if change == "extend":
        drives = [d for d in drives if not d.own_deadline]
    sends = not (change == "close" and form.outcome.data != "good_news")
    sizes = {d.office.code: audience_size(d, audience, stage) for d in drives} if sends else {}
    if form.confirm.data != "yes":
        form.confirm.data = "yes"  # the confirmation page's button says yes
        return render_template(
            "console/change.html", **page, step="confirm", sizes=sizes, audience=audience, stage=stage, sends=sends
        )
    data = {
        "update": lambda: {"kind": "update", "body": form.body.data},
        "extend": lambda: {
            "kind": "deadline_extended",
            "deadline": form.deadline.data.isoformat(),
            "body": form.body.data or None,
        },
        "close": lambda: {"kind": "closed", "outcome": form.outcome.data, "body": form.body.data or None},
    }[change]()
    if data["body"]:
        data["translations"] = {code: {"body": text} for code, text in words.items() if text}
    try:
        apply_change(case, data)
    except ServiceError as error:
        details = "; ".join(d["error"] for d in error.details or [] if isinstance(d, dict))
        flash(f"Not done: {error.message}{': ' + details if details else ''}.", "error")
        return render_template("console/change.html", **page, step="form"), error.status
    flash(f"{title}: done." + (f" {sum(sizes.values())} supporters will get the email." if sends else ""))
    return redirect(url_for("console.case", case_id=case.id))


@actions.post("/console/mailings/<int:mailing_id>/resume")
@requires("campaign")
def resume(mailing_id: int):
    """A mailing paused for staff sends again (the button shows only on such a mailing)."""
    office = None if current_user.is_admin else current_user.office
    try:
        mailing = visible_mailing(mailing_id, office)
    except ServiceError:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        resume_mailing(mailing)
        flash("The email is sending again.")
    except ServiceError as error:
        flash(error.message)
    return redirect(url_for("console.case", case_id=mailing.drive.case_id))


CLOSED = "This case is closed: its texts can no longer be changed."


def _translatable_language(case, language: str) -> str:
    """A language the case could be translated into, from the path: a code, not the case's own (a 404 else)."""
    try:
        code = language_code(language)
    except ValueError:
        abort(404)
    if code == case.language or code != language:
        abort(404)
    return code


def _after_translating(case, language: str) -> str:
    """Back to the launch the translation was started from (its office chosen again), else this language's page."""
    if request.args.get("then") == "launch":
        return url_for("actions.launch", case_id=case.id, office=request.args.get("office") or None)
    return url_for("actions.translation", case_id=case.id, language=language)


@actions.get("/console/cases/<int:case_id>/translations")
@requires("admin")
def add_translation(case_id: int):
    """The "add a language" choice of the case page: on to that language's form."""
    case = case_or_404(case_id)
    try:
        code = language_code(request.args.get("language", ""))
    except ValueError:
        flash("Choose a language to translate the case into.", "error")
        return redirect(url_for("console.case", case_id=case.id))
    if code == case.language:
        flash(f"The case is written in {name_of(code)}: choose another language.", "error")
        return redirect(url_for("console.case", case_id=case.id))
    return redirect(url_for("actions.translation", case_id=case.id, language=code))


@actions.get("/console/cases/<int:case_id>/translations/<language>")
@requires("read")
def translation(case_id: int, language: str):
    """One language's texts beside the original's. Admins edit them (as PATCH /cases/ID is theirs); staff read."""
    case = case_or_404(case_id)
    code = _translatable_language(case, language)
    return _translation_page(case, code, TranslationForm(obj=case.translation(code)), [])


@actions.post("/console/cases/<int:case_id>/translations/<language>")
@requires("admin")
def save_translation(case_id: int, language: str):
    """The translation page's form: saved, or shown again with what is wrong."""
    case = case_or_404(case_id)
    code = _translatable_language(case, language)
    form = TranslationForm(obj=case.translation(code))
    if form.validate_on_submit():
        try:
            edit_case(case, {"translations": {code: form.texts()}})
        except ServiceError as error:
            db.session.rollback()
            problems = [CLOSED] if isinstance(error, Conflict) else form.show_errors(error.details, code)
            if not problems and not any(form[name].errors for name in FIELD_LABELS):
                problems = [error.message]
            return _translation_page(case, code, form, problems), error.status
        flash(f"The {name_of(code)} translation is saved. {language_status(case, code)['words']}")
        return redirect(_after_translating(case, code))
    return _translation_page(case, code, form, []), _shown_again(form)


def _translation_page(case, code: str, form, problems: list[str]):
    return render_template(
        "console/translation.html",
        case=case,
        form=form,
        status=language_status(case, code),
        labels=FIELD_LABELS,
        problems=problems,
        editable=can(current_user, "admin") and case.status != "closed",
        closed=CLOSED if case.status == "closed" else None,
        then=request.args.get("then"),
        then_office=request.args.get("office"),
        remove=ConfirmForm(),
    )


@actions.post("/console/cases/<int:case_id>/translations/<language>/remove")
@requires("admin")
def remove_translation(case_id: int, language: str):
    """Removing a translation, asked twice: first what it will do, then, with confirm=yes, done."""
    case = case_or_404(case_id)
    code = _translatable_language(case, language)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if case.translation(code) is None:
        flash(f"The case has no {name_of(code)} translation to remove.", "error")
        return redirect(url_for("console.case", case_id=case.id))
    if form.confirm.data != "yes":
        form.confirm.data = "yes"  # the confirmation page's button says yes
        return render_template(
            "console/translation_remove.html", case=case, form=form, status=language_status(case, code)
        )
    try:
        edit_case(case, {"translations": {code: None}})
    except Conflict:
        flash(CLOSED, "error")
        return redirect(url_for("actions.translation", case_id=case.id, language=code))
    flash(
        f"The {name_of(code)} translation is removed: readers of {name_of(code)} get "
        f"{language_status(case, code)['instead']} instead."
    )
    return redirect(url_for("console.case", case_id=case.id))
