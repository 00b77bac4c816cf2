"""English showing through another language's rendering: the same page, PDF or RTF rendered for an English reader
and for another, and every English sentence looked for in the other.

What is never translated (names of people and target, office names, addresses, references, URLs, and a letter
that both renderings send in the target's language) is taken out of the English text first: what is left of a
sentence, if it is still three words or more, is ours or the case's wording and must not show up in the other.
"""

import html
import re

_URL = re.compile(r"(?:https?://|www\.)\S+")
_BLOCK = re.compile(
    r"<(?:br|p|div|li|h[1-6]|address|summary|details|header|footer|main|form|label|button|a|ol|ul|title)\b[^>]*>"
    r"|</(?:p|div|li|h[1-6]|address|summary|details|header|footer|main|form|label|button|a|ol|ul|title)>",
    re.I,
)
_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.I | re.S)
_SENTENCE_END = re.compile(r"[.!?:;]\s+|[.!?:;]$|\n")
_WORD = re.compile(r"[^\W\d_]+")


def _spaced(text: str) -> str:
    return " ".join(text.split())


def visible_text(page: str) -> str:
    """What a reader sees of an HTML page, one block a line."""
    text = _HIDDEN.sub(" ", page)
    text = _BLOCK.sub("\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return "\n".join(_spaced(line) for line in html.unescape(text).splitlines() if line.strip())


def pdf_lines(data: bytes) -> str:
    """A PDF's text line by line as laid out: a sentence cut where it wraps, every part still compared."""
    from io import BytesIO

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def pdf_text(data: bytes) -> str:
    """A PDF's text on one line: wrapped lines joined, as reportlab wraps only at spaces."""
    return _spaced(pdf_lines(data))


def rtf_text(data: bytes) -> str:
    from striprtf.striprtf import rtf_to_text

    return rtf_to_text(data.decode("ascii"))


def _untranslatable(names) -> list[str]:
    """Each name and each line of a multi-line one (an address, a letter), longest first so a part never splits a whole."""
    parts = set()
    for name in names:
        if name:
            parts.add(_spaced(name))
            parts.update(_spaced(line) for line in str(name).splitlines() if line.strip())
    return sorted(parts, key=len, reverse=True)


def sentences(text: str, names=()) -> list[str]:
    """The sentences (and headings, and lines) of `text` still three words long once `names` and URLs are out."""
    out = []
    parts = _untranslatable(names)
    for line in text.splitlines():
        # What is taken out ends a piece: the words either side of a name are not one sentence.
        line = _URL.sub("\n", _spaced(line))
        for name in parts:
            line = line.replace(name, "\n")
        for piece in _SENTENCE_END.split(line):
            piece = _spaced(piece).strip(" ,()\"'«»")
            # A part of an untranslatable text cut where a line wraps is still that text.
            if len(_WORD.findall(piece)) >= 3 and not any(piece in part for part in parts):
                out.append(piece)
    return out


def english_leaks(english_text: str, other_text: str, names=()) -> list[str]:
    """The English sentences found in the other language's text: [] when it is wholly in its language."""
    other = _spaced(other_text)
    return [sentence for sentence in sentences(english_text, names) if sentence in other]
