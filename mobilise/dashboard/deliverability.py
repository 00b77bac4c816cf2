"""An office's deliverability in the console: its reputation with the providers, drawn per day, and its
suppression list to download. Staff see their own office; an admin picks one."""

from datetime import date

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ..auth.roles import requires
from ..deliverability.reputation import GROUPS, reputation
from ..deliverability.suppressions import suppression_download
from ..offices.service import list_offices
from .chart import daily_bands
from .views import scope_office

deliverability = Blueprint("deliverability", __name__, url_prefix="/console/deliverability")
GROUP_NAMES = {
    "gmail": "Gmail",
    "microsoft": "Microsoft (Outlook, Hotmail, Live)",
    "yahoo": "Yahoo",
    "other": "Other domains",
}
SERIES = (("sent", "Sent"), ("hard_bounces", "Hard bounces"), ("complaints", "Complaints"))


@deliverability.before_request
@login_required
def signed_in():
    """Staff only."""


def percent(rate: float | None) -> str:
    """A rate as staff read it; a dash when nothing was sent, so no rate exists."""
    return "—" if rate is None else f"{rate * 100:.2f}%"


@deliverability.get("")
@requires("read")
def page():
    office = scope_office()
    if office is None:  # an admin who has not picked an office yet
        return render_template("console/deliverability.html", office=None, offices=list_offices())
    found = reputation(office)
    days = [{**day, "date": date.fromisoformat(day["date"])} for day in found["days"]]
    return render_template(
        "console/deliverability.html",
        office=office,
        offices=list_offices() if current_user.is_admin else [],
        reputation=found,
        chart=daily_bands(days, SERIES),
        groups=GROUPS,
        group_names=GROUP_NAMES,
        percent=percent,
    )


@deliverability.get("/suppressions.csv")
@requires("export")
def suppressions():
    return suppression_download(scope_office() or abort(404))
