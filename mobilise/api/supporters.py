"""An office's supporters through the API: added, listed, imported, exported, erased; and the relays' bounce reports."""

from flask import jsonify, request

from ..auth.roles import requires
from ..dashboard.privacy import erase_supporter, export_supporter
from ..errors import BadRequest
from ..guard import large_body
from ..sending.bounces import BounceIn, report_bounce
from ..supporters.imports import get_import, queue_import
from ..supporters.listing import list_supporters
from ..supporters.service import SupporterIn, upsert_supporters
from ..validation import parse
from . import blueprint, read_json, scoped_office, staff_office
from .openapi import documented
from .schemas import (
    BounceOut,
    ErasedOut,
    ExportOut,
    ImportOut,
    ImportQueued,
    ImportUpload,
    SupporterLookup,
    SupporterPage,
    SupporterQuery,
    UpsertOut,
)

bp = blueprint("api_supporters")
SUPPORTERS = ("supporters",)


@bp.post("/offices/<code>/supporters")
@documented({200: UpsertOut}, body=SupporterIn, body_or_list=True, tags=SUPPORTERS)
@requires("supporters")
def add_supporters(code: str):
    """Add or update one supporter or a list of them.

    A row that is not a valid supporter is rejected alone, in the answer's `rejected`; the good rows go in.
    """
    office = scoped_office(code)
    data = read_json(dict, list)
    rows = data if isinstance(data, list) else [data]
    return jsonify(upsert_supporters(office, rows)), 200


@bp.get("/offices/<code>/supporters")
@documented({200: SupporterPage}, query=SupporterQuery, tags=SUPPORTERS)
@requires("export")  # every address, a page at a time, is an export: managers only
def supporters(code: str):
    """An office's supporters, oldest first, a page at a time; a page past the end has no items."""
    office = scoped_office(code)
    query = parse(SupporterQuery, request.args.to_dict())
    found = list_supporters(office, **query.model_dump())
    return jsonify({key: found[key] for key in SupporterPage.model_fields})


@bp.post("/offices/<code>/imports")
@documented({202: ImportQueued}, multipart=ImportUpload, tags=SUPPORTERS)
@requires("supporters")
@large_body("IMPORT_MAX_BYTES")  # a CSV: 413 past it, before the file is stored
def start_import(code: str):
    """Import a CSV of supporters (multipart field `file`); it runs in a worker."""
    office = scoped_office(code)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("send the CSV as the multipart field 'file'")
    return jsonify({"id": queue_import(office, upload, upload.filename).id}), 202


@bp.get("/imports/<int:import_id>")
@documented({200: ImportOut}, tags=SUPPORTERS)
@requires("supporters")
def import_status(import_id: int):
    """An import's progress, and once done its counts and the rejected lines."""
    office = staff_office()
    return jsonify(get_import(import_id, None if office is None else {office.id}).to_dict())


@bp.post("/offices/<code>/supporters/export")
@documented({200: ExportOut}, body=SupporterLookup, tags=SUPPORTERS)
@requires("export")
def export(code: str):
    """Everything held on one supporter: profile, consent history, emails, opens, clicks, actions."""
    office = scoped_office(code)
    return jsonify(export_supporter(office, parse(SupporterLookup, read_json(dict)).email))


@bp.post("/offices/<code>/supporters/erase")
@documented({200: ErasedOut}, body=SupporterLookup, tags=SUPPORTERS)
@requires("erase")
def erase(code: str):
    """Erase one supporter's personal data for good; the counts keep their numbers."""
    office = scoped_office(code)
    return jsonify(erase_supporter(office, parse(SupporterLookup, read_json(dict)).email))


@bp.post("/events/bounces")
@documented({200: BounceOut}, body=BounceIn, errors=(404,), tags=("events",))
@requires("admin")
def bounces():
    """A relay's report of a bounce or complaint (admins): the mail to that supporter stops."""
    return jsonify(report_bounce(read_json(dict)))
