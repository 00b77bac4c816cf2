"""Cases through the API: made, imported, corrected, launched, changed, previewed, scheduled, counted."""
from flask import jsonify, request

from ..cases.service import case_to_dict, create_case, edit_case, get_case, list_cases
from ..cases.ua_document import DocumentTooLong, UnreadableDocument, parse_ua_document
from ..dashboard.service import case_stats
from ..errors import BadRequest, Invalid
from ..sending.preview import preview, send_test_email
from ..sending.service import resume_mailing, visible_mailing
from ..sequences.dispatch import start_drive
from ..sequences.lifecycle import apply_change
from ..sequences.service import drive_to_dict, schedule
from . import admin_only, blueprint, current_staff, read_json, scoped_office, staff_office

bp = blueprint("api_cases")


@bp.post("/cases")
def add_case():
    admin_only()
    return jsonify(case_to_dict(create_case(read_json(dict)))), 201


@bp.post("/cases/import")
def import_case():
    """A UA document as plain text (or JSON {"text"}) becomes a draft case."""
    admin_only()
    text = read_json(dict).get("text", "") if request.is_json else request.get_data(as_text=True)
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
def cases():
    return jsonify([case_to_dict(case) for case in list_cases()])


@bp.get("/cases/<int:case_id>")
def case(case_id: int):
    return jsonify(case_to_dict(get_case(case_id)))


@bp.patch("/cases/<int:case_id>")
def change_case(case_id: int):
    """Correct a case, or publish a draft with {"status": "live"}."""
    admin_only()
    return jsonify(case_to_dict(edit_case(get_case(case_id), read_json(dict))))


@bp.post("/cases/<int:case_id>/launch")
def launch_case(case_id: int):
    case = get_case(case_id)
    data = read_json(dict)
    office = scoped_office(str(data.get("office", "")))
    return jsonify(drive_to_dict(start_drive(case, office, data))), 201


@bp.post("/cases/<int:case_id>/updates")
def case_update(case_id: int):
    admin_only()
    case = get_case(case_id)
    made = apply_change(case, read_json(dict))
    return jsonify({"case": case_to_dict(case), "mailings": [m.to_dict() for m in made]}), 201


def _preview_office(data: dict):
    """The office to preview for: an office's own, or the one an admin names."""
    if code := data.get("office") or (None if current_staff().is_admin else current_staff().office.code):
        return scoped_office(code)
    raise Invalid("invalid input", [{"field": "office", "error": "name the office to preview for"}])


@bp.get("/cases/<int:case_id>/preview")
def case_preview(case_id: int):
    """?stage=&language=&office=&body=: the email as a supporter would get it; nothing is saved or sent."""
    data = request.args.to_dict()
    office = _preview_office(data)
    data.pop("office", None)
    return jsonify(preview(get_case(case_id), office, data))


@bp.post("/cases/<int:case_id>/test-email")
def case_test_email(case_id: int):
    """{"stage", "language", "office"?, "body"?}: the same email, sent now to the caller's own address."""
    data = read_json(dict)
    office = _preview_office(data)
    data.pop("office", None)
    return jsonify(send_test_email(get_case(case_id), office, data, current_staff().email)), 202


@bp.get("/cases/<int:case_id>/schedule")
def case_schedule(case_id: int):
    return jsonify(schedule(get_case(case_id), staff_office()))


@bp.post("/mailings/<int:mailing_id>/resume")
def resume(mailing_id: int):
    """A mailing paused for staff (too many refusals) sends again; 409 when it is not paused."""
    mailing = visible_mailing(mailing_id, staff_office())
    resume_mailing(mailing)
    return jsonify(mailing.to_dict())


@bp.get("/cases/<int:case_id>/stats")
def stats(case_id: int):
    return jsonify(case_stats(get_case(case_id), staff_office()))
