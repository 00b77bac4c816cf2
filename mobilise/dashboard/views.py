"""The staff console: cases with their counts, and the health of the queues. Each office sees its own."""

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from ..auth.roles import requires
from ..cases.models import Case
from ..cases.regions import REGION_NAMES
from ..cases.service import get_case
from ..clock import days_left, utcnow
from ..counts.models import DriveCounts
from ..errors import NotFound, ServiceError
from ..extensions import db
from ..offices.models import Office
from ..offices.service import get_office, list_offices
from ..offices.themes import DEFAULT_THEMES, english_name, theme_name
from ..sequences.models import Drive
from .chart import actions_chart
from .queues import queue_health
from .service import COUNTS, case_stats
from .translations import case_languages, languages_to_add

console = Blueprint("console", __name__)


@console.before_request
@login_required
def signed_in():
    """Every console page needs a signed-in staff member (the login page is elsewhere)."""


def scope_office() -> Office | None:
    """The office whose part staff see: their own; for an admin, the one asked for (?office=) or all."""
    if not current_user.is_admin:
        asked = request.args.get("office")
        if asked and asked.upper() != current_user.office.code:
            abort(404)
        return current_user.office
    code = request.args.get("office")
    return office_or_404(code) if code else None


def office_or_404(code: str) -> Office:
    """The office of an ISO 3166 code; anything else (an unknown code, a hostile string) is a 404."""
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        abort(404)
    try:
        return get_office(code)
    except NotFound:
        abort(404)


def case_or_404(case_id: int) -> Case:
    try:
        return get_case(case_id)
    except NotFound:
        abort(404)


def local_time(moment: datetime, tz_name: str) -> str:
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz_name))
    return local.strftime("%a %-d %b %Y, %H:%M %Z")


@console.get("/")
@requires("read")
def home():
    office = scope_office()
    cases = db.session.scalars(
        db.select(Case).where(Case.status != "draft").order_by(Case.status.desc(), Case.deadline)
    ).all()
    # The drives' counters: supporters' actions and visitors' of the case page, each person once.
    acted = (
        db.select(Drive.case_id, db.func.sum(DriveCounts.acted))
        .join(DriveCounts, DriveCounts.drive_id == Drive.id)
        .group_by(Drive.case_id)
    )
    launched = db.select(Drive.case_id).distinct()
    if office is not None:
        acted = acted.where(Drive.office_id == office.id)
        launched = launched.where(Drive.office_id == office.id)
    actions = dict(db.session.execute(acted).all())
    launched_ids = set(db.session.scalars(launched))
    tz = office.timezone if office else "UTC"
    rows = [
        {
            "case": c,
            "days_left": days_left(c.deadline, tz),
            "actions": actions.get(c.id, 0),
            "launched": c.id in launched_ids,
        }
        for c in cases
    ]
    return render_template(
        "console/home.html", rows=rows, office=office, offices=list_offices() if current_user.is_admin else []
    )


@console.get("/console/cases/<int:case_id>")
@requires("read")
def case(case_id: int):
    case = case_or_404(case_id)
    office = scope_office()
    stats = case_stats(case, office)
    drives = db.session.scalars(
        db.select(Drive).where(Drive.case_id == case.id, *([Drive.office_id == office.id] if office else []))
    ).all()
    tz = {d.office.code: d.office.timezone for d in drives}
    for mailing in stats["mailings"]:
        mailing["local_time"] = local_time(
            datetime.fromisoformat(mailing["send_at"].rstrip("Z")), tz[mailing["office"]]
        )
        if (paused := mailing.get("paused")) and paused["until"]:
            paused["until_local"] = local_time(
                datetime.fromisoformat(paused["until"].rstrip("Z")), tz[mailing["office"]]
            )
    per_day: dict[date, int] = {}
    for row in stats["actions_by_day"]:
        day = date.fromisoformat(row["date"])
        per_day[day] = per_day.get(day, 0) + row["actions"]
    start = min([d.created_at.date() for d in drives] + list(per_day), default=utcnow().date())
    deadline = max([d.deadline for d in drives], default=case.deadline)
    chart = actions_chart(per_day, start, deadline, utcnow().date())
    return render_template(
        "console/case.html",
        case=case,
        stats=stats,
        drives=drives,
        office=office,
        chart=chart,
        counts=COUNTS,
        can_launch=office is not None and office.id not in {d.office_id for d in drives} and case.status == "live",
        launchable=[o for o in list_offices() if o.id not in {d.office_id for d in drives}]
        if current_user.is_admin
        else [],
        languages=case_languages(case),
        to_add=languages_to_add(case, list_offices()) if current_user.is_admin and case.status != "closed" else None,
        region_name=english_name(REGION_NAMES[case.region]) if case.region else "none (no country we know)",
        theme_choices=theme_choices(case),
    )


def theme_choices(case: Case) -> list[tuple[str, str]]:
    """Every theme some office offers, then any other the case carries: (theme, its name)."""
    offered = list(DEFAULT_THEMES)
    for office in list_offices():
        offered += [theme for theme in office.offered_themes if theme not in offered]
    offered += [theme for theme in case.themes or [] if theme not in offered]
    return [(theme, english_name(theme_name(theme))) for theme in offered]


@console.get("/console/cases/<int:case_id>/stats.csv")
@requires("read")
def case_csv(case_id: int):
    case = case_or_404(case_id)
    stats = case_stats(case, scope_office())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scope", "office", "stage", "audience", "send_at", "status", *COUNTS])
    writer.writerow(["total", "", "", "", "", "", *(stats["totals"][c] for c in COUNTS)])
    for code, counts in stats["offices"].items():
        writer.writerow(["office", code, "", "", "", "", *(counts[c] for c in COUNTS)])
    for m in stats["mailings"]:
        writer.writerow(
            ["mailing", m["office"], m["stage"], m["audience"], m["send_at"], m["status"], *(m[c] for c in COUNTS)]
        )
    filename = f"{case.slug}-counts-{utcnow():%Y-%m-%d}.csv"
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@console.get("/console/queues")
@requires("read")
def queues():
    return render_template(
        "console/queues.html", queues=queue_health(None if current_user.is_admin else current_user.office)
    )


@console.get("/console/cases/<int:case_id>/preview/<stage>")
@requires("read")
def email_preview(case_id: int, stage: str):
    """The email's own HTML, for the sandboxed frame of a confirmation page."""
    from ..security import EMAIL_PREVIEW_POLICY
    from ..sending.preview import preview

    case = case_or_404(case_id)
    office = scope_office() or abort(404)
    try:
        email = preview(case, office, {"stage": stage, "language": request.args.get("language") or None})
    except ServiceError:
        abort(404)
    return email["html"], 200, {"Content-Security-Policy": EMAIL_PREVIEW_POLICY}
