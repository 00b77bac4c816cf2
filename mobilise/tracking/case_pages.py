"""The public case page, linked from every email, in the office's language with its drive's deadline."""

from babel.dates import format_date
from flask import Blueprint, Response, abort, render_template, request, url_for

from ..cases.documents import ua_blocks, ua_pdf, ua_rtf
from ..cases.letter import compose_for, letters
from ..cases.service import get_case_by_slug
from ..clock import days_left, today_in
from ..errors import NotFound
from ..extensions import db
from ..languages import locale_for, reading_language, use_language
from ..offices.models import Office
from ..sequences.models import Drive
from ..supporters.signup import HONEYPOT

pages = Blueprint("cases", __name__)

# The printed letter's type by its length in characters, so that it stays on one page (the seed UA's is ~3,000).
LETTER_SIZES = ((3600, "normal"), (4600, "small"))  # and "smaller" past the last


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
    letter, own_letter = letters(case, language)
    return render_template(
        "pages/case.html",
        case=case,
        office=office,
        drive=drive,
        content=case.content(language),
        letter=letter,
        own_letter=own_letter,
        compose=compose_for(case, letter),
        print_url=url_for(
            "cases.printable_letter", slug=case.slug, office=office.code if office else None, lang=language
        ),
        steps=None,  # a visitor has no email of ours to count a step against
        deadline=deadline,
        days_left=days_left(deadline, office.timezone if office else "UTC"),
        page_language=language,
        honeypot=HONEYPOT,
    )


@pages.get("/cases/<slug>/letter")
def printable_letter(slug: str):
    """The letter to send on one A4 page, the target's address where a window envelope shows it."""
    case = _public_case(slug)
    office, _ = _office_and_drive(case)
    language = _language(case, office, request.args.get("lang"))
    use_language(language, office.code if office else None)  # the page's instructions; the letter keeps its own
    letter, _ = letters(case, language)
    content = case.content(letter.language)
    return render_template(
        "pages/letter.html",
        case=case,
        office=office,
        content=content,
        letter=letter,
        # Dated as the letter's own language writes a date, in the office's country.
        letter_date=format_date(
            today_in(office.timezone if office else "UTC"),
            "long",
            locale=locale_for(letter.language, office.code if office else None),
        ),
        # A long letter is set smaller so that it still fits on its one page.
        letter_size=next((size for limit, size in LETTER_SIZES if len(letter.text) <= limit), "smaller"),
        page_language=language,
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
