"""The full UA as a document to download, laid out like the UA documents offices know: PDF and RTF.

Both are made from one list of blocks, so the two never say different things.
"""
from dataclasses import dataclass
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from ..languages import name_of
from .models import Case


@dataclass(frozen=True)
class Block:
    kind: str  # "banner", "title", "heading", "text", "lines"
    text: str


def ua_blocks(case: Case, language: str, deadline) -> list[Block]:
    content = case.content(language)
    blocks = [Block("banner", "URGENT ACTION")]
    if case.reference or case.ai_index:
        blocks.append(Block("text", "   ".join(filter(None, [case.reference, case.ai_index and f"Index: {case.ai_index}"]))))
    blocks.append(Block("title", content["title"].upper()))
    blocks += [Block("text", p) for p in (content["summary"] or "").split("\n\n") if p.strip()]
    blocks.append(Block("heading", "TAKE ACTION: WRITE AN APPEAL IN YOUR OWN WORDS OR USE THIS MODEL LETTER"))
    target = "\n".join(filter(None, [" ".join(filter(None, [content["target_title"], case.target_name])), case.target_address]))
    blocks.append(Block("lines", target))
    if content["target_salutation"]:
        blocks.append(Block("text", f"{content['target_salutation']},"))
    blocks += [Block("text", p) for p in content["model_letter"].split("\n\n") if p.strip()]
    blocks.append(Block("text", "Yours sincerely,"))
    if content["additional_information"]:
        blocks.append(Block("heading", "ADDITIONAL INFORMATION"))
        blocks += [Block("text", p) for p in content["additional_information"].split("\n\n") if p.strip()]
    if case.target_language:
        blocks.append(Block("heading", f"PREFERRED LANGUAGE TO ADDRESS TARGET: {name_of(case.target_language)}"))
        blocks.append(Block("text", "You can also write in your own language."))
    blocks.append(Block("heading", f"PLEASE TAKE ACTION AS SOON AS POSSIBLE UNTIL: {deadline.day} {deadline:%B %Y}"))
    blocks.append(Block("text", "Please check with the Amnesty office in your country if you wish to send appeals after the deadline."))
    if content["people"]:
        pronoun = f" ({content['pronoun']})" if content["pronoun"] else ""
        blocks.append(Block("heading", f"NAME AND PREFERRED PRONOUN: {', '.join(content['people'])}{pronoun}"))
    if case.previous_reference:
        blocks.append(Block("heading", f"LINK TO PREVIOUS UA: {case.previous_reference}"))
    return blocks


STYLES = {
    "banner": ParagraphStyle("banner", fontName="Helvetica-Bold", fontSize=20, leading=24, spaceAfter=6 * mm),
    "title": ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=15, leading=19, spaceAfter=4 * mm),
    "heading": ParagraphStyle("heading", fontName="Helvetica-Bold", fontSize=10.5, leading=14, spaceBefore=3 * mm, spaceAfter=2 * mm),
    "text": ParagraphStyle("text", fontName="Helvetica", fontSize=10.5, leading=14.5, spaceAfter=3 * mm),
    "lines": ParagraphStyle("lines", fontName="Helvetica", fontSize=10.5, leading=14.5, spaceAfter=3 * mm),
}


def ua_pdf(blocks: list[Block], title: str) -> bytes:
    """A4, Helvetica: every Latin-1 name (Rocío, Nicolás) as written."""
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author="Mobilise",
        leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
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
                unit = int.from_bytes(encoded[i:i + 2], "little")
                out.append(f"\\u{unit - 65536 if unit > 32767 else unit}?")
    return "".join(out)


RTF_FORMATS = {
    "banner": r"\b\fs40 ", "title": r"\b\fs30 ", "heading": r"\b\fs21 ", "text": r"\fs21 ", "lines": r"\fs21 ",
}


def ua_rtf(blocks: list[Block]) -> bytes:
    body = "".join(f"{{\\pard\\sa180 {RTF_FORMATS[b.kind]}{_rtf_text(b.text)}\\par}}\n" for b in blocks)
    document = "{\\rtf1\\ansi\\ansicpg1252\\deff0\\uc1{\\fonttbl{\\f0\\fswiss Helvetica;}}\\f0\n" + body + "}"
    return document.encode("ascii")
