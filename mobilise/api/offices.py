"""Offices through the API: admins make them; staff see their own."""
from flask import jsonify

from ..offices.service import OfficeIn, create_office, list_offices
from . import admin_only, blueprint, current_staff, read_json
from .openapi import documented
from .schemas import OfficeOut

bp = blueprint("api_offices")
OFFICES = ("offices",)


@bp.get("/offices")
@documented({200: list[OfficeOut]}, tags=OFFICES)
def offices():
    """Every office for an admin; an office's staff see their own."""
    staff = current_staff()
    found = list_offices() if staff.is_admin else [staff.office]
    return jsonify([office.to_dict() for office in found])


@bp.post("/offices")
@documented({201: OfficeOut}, body=OfficeIn, errors=(409,), tags=OFFICES)
def add_office():
    """Add a country office (admins); 409 when the code is taken."""
    admin_only()
    return jsonify(create_office(read_json(dict)).to_dict()), 201
