from flask import jsonify

from ..api import admin_only, api, current_staff, read_json
from .service import create_office, list_offices


@api.get("/offices")
def offices():
    staff = current_staff()
    found = list_offices() if staff.is_admin else [staff.office]
    return jsonify([office.to_dict() for office in found])


@api.post("/offices")
def add_office():
    admin_only()
    return jsonify(create_office(read_json(dict)).to_dict()), 201
