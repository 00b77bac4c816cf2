"""Offices through the API: admins make them; staff see their own and set its logo and DKIM key."""

from flask import jsonify

from ..auth.roles import requires
from ..offices.service import OfficeIn, OfficeSettingsIn, change_office, create_office, list_offices
from ..supporters.preference_stats import preference_stats
from . import blueprint, current_staff, read_json, scoped_office
from .openapi import documented
from .schemas import OfficeOut, PreferenceStatsOut

bp = blueprint("api_offices")
OFFICES = ("offices",)


@bp.get("/offices")
@documented({200: list[OfficeOut]}, tags=OFFICES)
@requires("read")
def offices():
    """Every office for an admin; an office's staff see their own."""
    staff = current_staff()
    found = list_offices() if staff.is_admin else [staff.office]
    return jsonify([office.to_dict() for office in found])


@bp.post("/offices")
@documented({201: OfficeOut}, body=OfficeIn, errors=(409,), tags=OFFICES)
@requires("admin")
def add_office():
    """Add a country office (admins); 409 when the code is taken."""
    return jsonify(create_office(read_json(dict)).to_dict()), 201


@bp.patch("/offices/<code>")
@documented({200: OfficeOut}, body=OfficeSettingsIn, errors=(404,), tags=OFFICES)
@requires("manage")
def change_office_settings(code):
    """Change an office's own settings (its staff, or an admin); only the fields sent change, null removes:
    `logo_url`, shown atop its emails; `dkim_selector` with `dkim_private_key` (PEM, RSA or Ed25519), which signs
    every email of the office; the key is never shown back, `dkim` in the answer is the TXT record to publish."""
    return jsonify(change_office(scoped_office(code), read_json(dict)).to_dict())


@bp.get("/offices/<code>/preferences")
@documented({200: PreferenceStatsOut}, errors=(404,), tags=OFFICES)
@requires("read")
def office_preferences(code: str):
    """What the office's subscribed supporters chose on their preference page: how many chose fewer emails,
    which regions and themes, how many take the launch and last reminder only, how many are paused; and the
    unsubscribes by month, before and after the office's emails linked to the page."""
    return jsonify(preference_stats(scoped_office(code)))
