"""Offices through the API: admins make them; staff see their own."""
from flask import jsonify

from ..offices.service import create_office, list_offices
from . import admin_only, blueprint, current_staff, read_json

bp = blueprint("api_offices")


@bp.get("/offices")
def offices():
    staff = current_staff()
    found = list_offices() if staff.is_admin else [staff.office]
    return jsonify([office.to_dict() for office in found])


@bp.post("/offices")
def add_office():
    admin_only()
    return jsonify(create_office(read_json(dict)).to_dict()), 201
