"""What an office's supporters choose on their preference page, in the console. Staff see their own office; an
admin picks one."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..auth.roles import requires
from ..cases.regions import REGION_NAMES, REGIONS
from ..offices.service import list_offices
from ..offices.themes import english_name, theme_name
from ..supporters.preference_stats import preference_stats
from .views import scope_office

choices = Blueprint("choices", __name__, url_prefix="/console/preferences")


@choices.before_request
@login_required
def signed_in():
    """Staff only."""


@choices.get("")
@requires("read")
def page():
    office = scope_office()
    offices = list_offices() if current_user.is_admin else []
    if office is None:  # an admin who has not picked an office yet
        return render_template("console/preferences.html", office=None, offices=offices)
    stats = preference_stats(office)
    # The console is in English: the regions' and themes' English names.
    regions = [(english_name(REGION_NAMES[r]), stats["regions"].get(r, 0)) for r in REGIONS]
    themes = [(english_name(theme_name(t)), n) for t, n in stats["themes"].items()]
    return render_template(
        "console/preferences.html", office=office, offices=offices, stats=stats, regions=regions, themes=themes
    )
