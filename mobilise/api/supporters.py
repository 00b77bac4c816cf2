"""An office's supporters through the API: added, listed, imported, exported, erased; and the relays' bounce reports."""
from flask import current_app, jsonify, request

from ..dashboard.privacy import erase_supporter, export_supporter
from ..errors import BadRequest
from ..sending.bounces import report_bounce
from ..supporters.imports import get_import, queue_import
from ..supporters.service import list_supporters, upsert_supporters
from . import admin_only, blueprint, read_json, scoped_office, staff_office

bp = blueprint("api_supporters")


@bp.url_value_preprocessor
def bound_upload(endpoint, _values):
    """An import's own size limit (IMPORT_MAX_BYTES), set before anything reads the body: 413 before the file is stored."""
    if endpoint == "api_supporters.start_import":
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]


@bp.post("/offices/<code>/supporters")
def add_supporters(code: str):
    office = scoped_office(code)
    data = read_json(dict, list)
    rows = data if isinstance(data, list) else [data]
    return jsonify(upsert_supporters(office, rows)), 200


@bp.get("/offices/<code>/supporters")
def supporters(code: str):
    office = scoped_office(code)
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError:
        raise BadRequest("page and per_page must be whole numbers") from None
    return jsonify(
        list_supporters(
            office,
            status=request.args.get("status") or None,
            tag=request.args.get("tag") or None,
            q=request.args.get("q") or None,
            page=page,
            per_page=per_page,
        )
    )


@bp.post("/offices/<code>/imports")
def start_import(code: str):
    office = scoped_office(code)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("send the CSV as the multipart field 'file'")
    return jsonify({"id": queue_import(office, upload, upload.filename).id}), 202


@bp.get("/imports/<int:import_id>")
def import_status(import_id: int):
    office = staff_office()
    return jsonify(get_import(import_id, None if office is None else {office.id}).to_dict())


@bp.post("/offices/<code>/supporters/export")
def export(code: str):
    office = scoped_office(code)
    return jsonify(export_supporter(office, read_json(dict).get("email")))


@bp.post("/offices/<code>/supporters/erase")
def erase(code: str):
    office = scoped_office(code)
    return jsonify(erase_supporter(office, read_json(dict).get("email")))


@bp.post("/events/bounces")
def bounces():
    admin_only()
    return jsonify(report_bounce(read_json(dict)))
