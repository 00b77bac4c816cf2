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


def _public_case(slug: str):
    try:
        return get_case_by_slug(slug)
    except NotFound:
        abort(404)


def _office_and_drive(case) -> tuple[Office | None, Drive | None]:
    """The office a link names (`?office=CODE`, as every email and page writes it), and its drive of the case."""
    code = (request.args.get("office") or "").upper()
    office = db.session.scalar(db.select(Office).where(Office.code == code)) if code else None
    if office is None:
        return None, None
    return office, db.session.scalar(db.select(Drive).where(Drive.case_id == case.id, Drive.office_id == office.id))


def _language(case, office, asked: str | None) -> str:
    """One language for the case's text and our wording: the one asked for (`?lang=`), else the office's (the
    browser's on a page no office links), each only when the case reads whole in it and our catalog has it."""
    wanted = office.language if office else request.accept_languages.best_match(sorted(case.languages()))
    return reading_language([asked, wanted], case.languages(), case.language)


@pages.get("/cases/<slug>")
def case_page(slug: str):
    case = _public_case(slug)
    office, drive = _office_and_drive(case)
    language = _language(case, office, request.args.get("lang"))  # an email's link names its reader's language
    use_language(language, office.code if office else None)
    deadline = drive.deadline if drive else case.deadline
    return render_template(
        "pages/case.html",
        case=case,
        office=office,
        content=case.content(language),
        deadline=deadline,
        days_left=days_left(deadline, office.timezone if office else "UTC"),
        page_language=language,
        honeypot=HONEYPOT,
    )


def _document(slug: str):
    """The blocks of the whole UA as the page that links it reads: its language, its office's dates and deadline."""
    case = _public_case(slug)
    office, drive = _office_and_drive(case)
    language = _language(case, office, request.args.get("lang"))
    blocks = ua_blocks(case, language, drive.deadline if drive else case.deadline, office.code if office else None)
    return case, case.content(language), blocks


@pages.get("/cases/<slug>/ua.pdf")
def ua_as_pdf(slug: str):
    case, content, blocks = _document(slug)
    return Response(
        ua_pdf(blocks, content["title"]),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{case.slug}.pdf"'},
    )


@pages.get("/cases/<slug>/ua.rtf")
def ua_as_rtf(slug: str):
    case, _, blocks = _document(slug)
    return Response(
        ua_rtf(blocks),
        mimetype="application/rtf",
        headers={"Content-Disposition": f'attachment; filename="{case.slug}.rtf"'},
    )
