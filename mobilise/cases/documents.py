"""The full UA as a document to download, laid out like the UA documents offices know: PDF and RTF.

Both are made from one list of blocks, so the two never say different things.
"""

import re
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from xml.sax.saxutils import escape

from flask_babel import force_locale, format_date, gettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from ..languages import locale_for, name_of, names
from .letter import Letter, letters
from .models import Case


@dataclass(frozen=True)
class Block:
    kind: str  # "banner", "title", "heading", "text", "lines"
    text: str


_VALUE = re.compile(r"(%\([a-z_]+\)s)")


def heading(translated: str, **values: str) -> str:
    """A heading set in capitals, as UA documents set them, with its values (a name, a date, a link) as written:
    only the catalog's wording is upper-cased, so "NAME AND PREFERRED PRONOUN: Rocío San Miguel (she/her)"."""
    parts = _VALUE.split(translated)
    return "".join(values[part[2:-2]] if n % 2 else part.upper() for n, part in enumerate(parts))


def _paragraphs(text: str | None) -> list[Block]:
    return [Block("text", p) for p in (text or "").split("\n\n") if p.strip()]


def _letter(letter: Letter) -> list[Block]:
    return [Block("text", part) for part in (letter.salutation, *letter.paragraphs, letter.closing) if part]


def ua_blocks(case: Case, language: str, deadline: date, country: str | None = None) -> list[Block]:
    """The whole UA in `language`: the case's text, our headings through the catalog, the deadline as `country`
    writes dates, and the letter to send in the target's language when the case has it (the reader's own after it)."""
    with force_locale(locale_for(language, country)):
        return _blocks(case, case.content(language), deadline)


def _blocks(case: Case, content: dict, deadline: date) -> list[Block]:
    language = content["language"]
    blocks = [Block("banner", gettext("Urgent Action").upper())]
    if case.reference or case.ai_index:
        index = case.ai_index and gettext("Index: %(index)s", index=case.ai_index)
        blocks.append(Block("text", "   ".join(filter(None, [case.reference, index]))))
    blocks.append(Block("title", content["title"].upper()))
    blocks += _paragraphs(content["summary"])
    blocks.append(
        Block("heading", heading(gettext("Take action: write an appeal in your own words or use this model letter")))
    )
    target = "\n".join(
        filter(None, [" ".join(filter(None, [content["target_title"], case.target_name])), case.target_address])
    )
    blocks.append(Block("lines", target))
    to_send, own = letters(case, language)
    if own is not None:
        blocks.append(
            Block(
                "text",
                gettext(
                    "This letter is in %(language)s, the language %(target)s reads.",
                    language=name_of(to_send.language, language),
                    target=case.target_name,
                ),
            )
        )
    blocks += _letter(to_send)
    if own is not None:
        blocks.append(
            Block(
                "heading",
                heading(gettext("The same letter in %(language)s"), language=name_of(own.language, language).upper()),
            )
        )
        blocks += _letter(own)
    if content["additional_information"]:
        blocks.append(Block("heading", gettext("Additional information").upper()))
        blocks += _paragraphs(content["additional_information"])
    if case.target_language:
        blocks.append(
            Block(
                "heading",
                heading(
                    gettext("Preferred language to address target: %(language)s"),
                    language=name_of(case.target_language, language),
                ),
            )
        )
        blocks.append(Block("text", gettext("You can also write in your own language.")))
    blocks.append(
        Block(
            "heading",
            heading(
                gettext("Please take action as soon as possible until: %(date)s"), date=format_date(deadline, "long")
            ),
        )
    )
    blocks.append(
        Block(
            "text",
            gettext(
                "Please check with the Amnesty office in your country if you wish to send appeals after the deadline."
            ),
        )
    )
    if content["people"]:
        pronoun = f" ({content['pronoun']})" if content["pronoun"] else ""
        blocks.append(
            Block(
                "heading",
                heading(gettext("Name and preferred pronoun: %(names)s"), names=names(content["people"]) + pronoun),
            )
        )
    if case.previous_reference:
        blocks.append(Block("heading", heading(gettext("Link to previous UA: %(link)s"), link=case.previous_reference)))
    return blocks


STYLES = {
    "banner": ParagraphStyle("banner", fontName="Helvetica-Bold", fontSize=20, leading=24, spaceAfter=6 * mm),
    "title": ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=15, leading=19, spaceAfter=4 * mm),
    "heading": ParagraphStyle(
        "heading", fontName="Helvetica-Bold", fontSize=10.5, leading=14, spaceBefore=3 * mm, spaceAfter=2 * mm
    ),
    "text": ParagraphStyle("text", fontName="Helvetica", fontSize=10.5, leading=14.5, spaceAfter=3 * mm),
    "lines": ParagraphStyle("lines", fontName="Helvetica", fontSize=10.5, leading=14.5, spaceAfter=3 * mm),
}


def ua_pdf(blocks: list[Block], title: str) -> bytes:
    """A4, Helvetica: every Latin-1 name (Rocío, Nicolás) as written."""
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Mobilise",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    story = []
    for block in blocks:
        text = escape(block.text).replace("\n", "<br/>")
        story.append(Paragraph(text, STYLES[block.kind]))
    story.append(Spacer(1, 4 * mm))
    document.build(story)
    return buffer.getvalue()


def _rtf_text(text: str) -> str:
    """RTF escapes: control characters, and every non-ASCII character as \\uN? (UTF-16, signed)."""
    out = []
    for char in text:
        if char in "\\{}":
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\line ")
        elif ord(char) < 128:
            out.append(char)
        else:
            encoded = char.encode("utf-16-le")
            for i in range(0, len(encoded), 2):
                unit = int.from_bytes(encoded[i : i + 2], "little")
                out.append(f"\\u{unit - 65536 if unit > 32767 else unit}?")
    return "".join(out)


RTF_FORMATS = {
    "banner": r"\b\fs40 ",
    "title": r"\b\fs30 ",
    "heading": r"\b\fs21 ",
    "text": r"\fs21 ",
    "lines": r"\fs21 ",
}


def ua_rtf(blocks: list[Block]) -> bytes:
    body = "".join(f"{{\\pard\\sa180 {RTF_FORMATS[b.kind]}{_rtf_text(b.text)}\\par}}\n" for b in blocks)
    document = "{\\rtf1\\ansi\\ansicpg1252\\deff0\\uc1{\\fonttbl{\\f0\\fswiss Helvetica;}}\\f0\n" + body + "}"
    return document.encode("ascii")
