"""The audit trail through the API: who did what, when, from which network. For managers and admins."""

from flask import jsonify, request

from ..audit.service import entry_to_dict, list_entries
from ..auth.roles import requires
from ..validation import parse
from . import blueprint, current_staff, scoped_office
from .openapi import documented
from .schemas import AuditPage, AuditQuery

bp = blueprint("api_audit")


@bp.get("/audit")
@documented({200: AuditPage}, query=AuditQuery, errors=(404,), tags=("audit",))
@requires("manage")
def audit():
    """Sign-ins, launches, updates, imports, exports, erasures, tokens and staff made, newest first.

    An office's manager sees their office's entries (`office=` another answers 404); an admin sees every
    office's, or the one asked for.
    """
    query = parse(AuditQuery, request.args.to_dict())
    if query.office:
        office_id = scoped_office(query.office).id
    else:
        office_id = None if current_staff().is_admin else current_staff().office_id
    found = list_entries(office_id=office_id, action=query.action, page=query.page, per_page=query.per_page)
    return jsonify({**found, "items": [entry_to_dict(entry) for entry in found["items"]]})
