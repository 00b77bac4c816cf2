"""Cases through the API: made, imported, corrected, launched, changed, previewed, scheduled, counted."""

from flask import jsonify, request

from ..auth.roles import requires
from ..cases.service import CaseEdit, CaseIn, case_to_dict, create_case, edit_case, get_case, list_cases
from ..cases.ua_document import DocumentTooLong, UnreadableDocument, parse_ua_document
from ..dashboard.service import case_stats
from ..errors import BadRequest, Invalid
from ..sending.preview import preview, send_test_email
from ..sending.service import resume_mailing, visible_mailing
from ..sequences.dispatch import start_drive
from ..sequences.lifecycle import apply_change
from ..sequences.service import LaunchIn, drive_to_dict, reading_audience, schedule
from ..validation import parse
from . import blueprint, current_staff, read_json, scoped_office, staff_office
from .openapi import documented
from .schemas import (
    AudienceOut,
    AudienceQuery,
    CaseChange,
    CaseDocument,
    CaseOut,
    ChangeOut,
    DriveOut,
    MailingOut,
    PreviewOut,
    PreviewQuery,
    PreviewRequest,
    StatsOut,
    TestEmailOut,
)

bp = blueprint("api_cases")
CASES = ("cases",)


@bp.post("/cases")
@documented({201: CaseOut}, body=CaseIn, tags=CASES)
@requires("admin")
def add_case():
    """Make a case, live at once (admins)."""
    return jsonify(case_to_dict(create_case(read_json(dict)))), 201


@bp.post("/cases/import")
@documented({201: CaseOut}, body=CaseDocument, plain_text=True, tags=CASES)
@requires("admin")
def import_case():
    """Read a UA document (plain text, or JSON {"text"}) into a draft case (admins).

    A 422 lists in `details` which of title, target, model letter and deadline the document lacks.
    """
    text = parse(CaseDocument, read_json(dict)).text if request.is_json else request.get_data(as_text=True)
    if not text.strip():
        raise BadRequest("send the UA document's text as the request body")
    try:
        fields = parse_ua_document(text)
    except UnreadableDocument as error:
        raise Invalid("this does not read as a UA document", error.missing) from None
    except DocumentTooLong as error:
        raise Invalid(str(error), [{"field": "text", "error": str(error)}]) from None
    return jsonify(case_to_dict(create_case(fields, status="draft"))), 201


@bp.get("/cases")
@documented({200: list[CaseOut]}, tags=CASES)
@requires("read")
def cases():
    """Every case, newest first."""
    return jsonify([case_to_dict(case) for case in list_cases()])


@bp.get("/cases/<int:case_id>")
@documented({200: CaseOut}, tags=CASES)
@requires("read")
def case(case_id: int):
    """One case."""
    return jsonify(case_to_dict(get_case(case_id)))


@bp.patch("/cases/<int:case_id>")
@documented({200: CaseOut}, body=CaseEdit, errors=(409,), tags=CASES)
@requires("admin")
def change_case(case_id: int):
    """Correct a case, or publish a draft with {"status": "live"} (admins)."""
    return jsonify(case_to_dict(edit_case(get_case(case_id), read_json(dict))))


@bp.post("/cases/<int:case_id>/launch")
@documented({201: DriveOut}, body=LaunchIn, errors=(409,), tags=CASES)
@requires("campaign")
def launch_case(case_id: int):
    """Launch a live case for an office: the launch email now (or at `send_at`) and its reminders."""
    case = get_case(case_id)
    data = read_json(dict)
    office = scoped_office(parse(LaunchIn, data).office)
    drive = start_drive(case, office, data)
    audience = reading_audience(case, office, tags=drive.tags, languages=drive.languages)
    return jsonify(drive_to_dict(drive, audience)), 201


@bp.get("/cases/<int:case_id>/audience")
@documented({200: AudienceOut}, query=AudienceQuery, tags=CASES)
@requires("read")
def case_audience(case_id: int):
    """Who a launch for the office would reach now, by the language each will read, and who falls back."""
    case = get_case(case_id)
    query = {key: request.args.getlist(key) for key in ("tags", "languages")} | {
        "office": request.args.get("office", "")
    }
    fields = parse(AudienceQuery, query)
    office = scoped_office(fields.office)
    return jsonify(reading_audience(case, office, tags=fields.tags, languages=fields.languages))


@bp.post("/cases/<int:case_id>/updates")
@documented({201: ChangeOut}, body=CaseChange, errors=(409,), tags=CASES)
@requires("admin")
def case_update(case_id: int):
    """News on a case, a later deadline, or its end, with the mailings that makes (admins)."""
    case = get_case(case_id)
    made = apply_change(case, read_json(dict))
    return jsonify({"case": case_to_dict(case), "mailings": [m.to_dict() for m in made]}), 201


def _preview_office(fields: PreviewRequest):
    """The office to preview for: an office's own, or the one an admin names."""
    if code := fields.office or (None if current_staff().is_admin else current_staff().office.code):
        return scoped_office(code)
    raise Invalid("invalid input", [{"field": "office", "error": "name the office to preview for"}])


def _preview_data(fields: PreviewRequest) -> dict:
    return fields.model_dump(exclude={"office"}, exclude_unset=True)


@bp.get("/cases/<int:case_id>/preview")
@documented({200: PreviewOut}, query=PreviewQuery, tags=CASES)
@requires("read")
def case_preview(case_id: int):
    """The email of a stage as a supporter would get it; nothing is saved or sent."""
    fields = parse(PreviewQuery, request.args.to_dict())
    office = _preview_office(fields)
    return jsonify(preview(get_case(case_id), office, _preview_data(fields)))


@bp.post("/cases/<int:case_id>/test-email")
@documented({202: TestEmailOut}, body=PreviewRequest, errors=(503,), tags=CASES)
@requires("campaign")
def case_test_email(case_id: int):
    """The same email, sent now to the caller's own address."""
    fields = parse(PreviewRequest, read_json(dict))
    office = _preview_office(fields)
    return jsonify(send_test_email(get_case(case_id), office, _preview_data(fields), current_staff().email)), 202


@bp.get("/cases/<int:case_id>/schedule")
@documented({200: list[MailingOut]}, tags=CASES)
@requires("read")
def case_schedule(case_id: int):
    """Every mailing of the case, in the order they go out."""
    return jsonify(schedule(get_case(case_id), staff_office()))


@bp.post("/mailings/<int:mailing_id>/resume")
@documented({200: MailingOut}, errors=(409,), tags=CASES)
@requires("campaign")
def resume(mailing_id: int):
    """A mailing paused for staff (too many refusals) sends again; 409 when it is not paused."""
    mailing = visible_mailing(mailing_id, staff_office())
    resume_mailing(mailing)
    return jsonify(mailing.to_dict())


@bp.get("/cases/<int:case_id>/stats")
@documented({200: StatsOut}, tags=CASES)
@requires("read")
def stats(case_id: int):
    """The case's counts: in total, by office, by mailing, and actions by day."""
    return jsonify(case_stats(get_case(case_id), staff_office()))
