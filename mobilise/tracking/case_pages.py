"""The public case page, linked from every email, in the office's language with its drive's deadline."""
from flask import Blueprint, Response, abort, render_template, request

from ..cases.documents import ua_blocks, ua_pdf, ua_rtf
from ..cases.service import get_case_by_slug
from ..clock import days_left
from ..errors import NotFound
from ..extensions import db
from ..languages import reading_language, use_language
from ..offices.models import Office
from ..sequences.models import Drive
from ..supporters.signup import HONEYPOT

pages = Blueprint("cases", __name__)


@pages.get("/cases/<slug>")
def case_page(slug: str):
    try:
        case = get_case_by_slug(slug)
    except NotFound:
        abort(404)
    code = (request.args.get("office") or "").upper()
    office = db.session.scalar(db.select(Office).where(Office.code == code)) if code else None
    drive = None
    if office is not None:
        drive = db.session.scalar(db.select(Drive).where(Drive.case_id == case.id, Drive.office_id == office.id))
    wanted = office.language if office else request.accept_languages.best_match(sorted(case.languages()))
    language = reading_language([wanted, "en"], case.languages(), case.language)
    use_language(language, office.code if office else None)
    deadline = drive.deadline if drive else case.deadline
    return render_template(
        "pages/case.html",
        case=case,
        office=office,
        content=case.content(language),
        days_left=days_left(deadline, office.timezone if office else "UTC"),
        page_language=language,
        honeypot=HONEYPOT,
    )


def _document_blocks(slug: str):
    try:
        case = get_case_by_slug(slug)
    except NotFound:
        abort(404)
    language = request.args.get("lang") or case.language
    if language not in case.languages():
        language = case.language
    return case, ua_blocks(case, language, case.deadline)


@pages.get("/cases/<slug>/ua.pdf")
def ua_as_pdf(slug: str):
    case, blocks = _document_blocks(slug)
    return Response(
        ua_pdf(blocks, case.content(case.language)["title"]),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{case.slug}.pdf"'},
    )


@pages.get("/cases/<slug>/ua.rtf")
def ua_as_rtf(slug: str):
    case, blocks = _document_blocks(slug)
    return Response(
        ua_rtf(blocks),
        mimetype="application/rtf",
        headers={"Content-Disposition": f'attachment; filename="{case.slug}.rtf"'},
    )
