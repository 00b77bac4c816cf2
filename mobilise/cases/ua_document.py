"""Reads the plain text of a UA document (the format of shared/seeds/ua-document.txt) into case fields.

The document is a sequence of sections under capitalised headings. We find the headings
case-insensitively and tolerate extra spacing and missing optional parts; what a case
cannot do without (title, target, model letter, deadline) is reported when missing.
"""

import re
from datetime import date, datetime

from ..languages import code_for, fold

# A real UA is about 10,000 characters; anything past a hundred times that is not one, and refusing it unread
# keeps the cost of the worst input bounded.
MAX_DOCUMENT_CHARS = 1_000_000
# The first word of the language line is a language's name ("Spanish", "español"): a longer word is none, and
# is not handed to code_for to be folded and compared with every language's name.
LANGUAGE_NAME_MAX = 40

# Every pattern here runs in time linear in the text, which is why they are shaped so:
# - a line's own whitespace is [^\S\n] (any whitespace but the line break): `^\s*` under re.M let every
#   line start scan all the blank lines below it;
# - no two unbounded runs that can match the same characters stand side by side (`\s*:?\s*`): a run of
#   spaces could then be split between them in every possible way before the match failed;
# - a run followed by what it cannot match is possessive (`*+`): giving characters back could never make
#   the match succeed, only make a failing one rescan the run;
# - a run that may fail stops at the character that begins the next attempt (a link's text and address
#   stop at "["), so no character is scanned again from each of a thousand starts.
LINE_SPACE = r"[^\S\n]*+"


def _words(phrase: str) -> str:
    """`phrase` with any run of spaces between its words, as text pasted from a PDF has."""
    return phrase.replace(" ", r"[^\S\n]++")


HEADING_TAKE_ACTION = re.compile(rf"^{LINE_SPACE}{_words('take action')}\b.*$", re.I | re.M)
HEADING_ADDITIONAL = re.compile(rf"^{LINE_SPACE}{_words('additional information')}{LINE_SPACE}$", re.I | re.M)


def _labelled(label: str) -> re.Pattern:
    """A "LABEL: value" line; the value may stand on a line below, as text pasted from a PDF breaks."""
    return re.compile(rf"^{LINE_SPACE}{_words(label)}\s*+:\s*(.+)$", re.I | re.M)


LABELLED = {
    "target_language": _labelled("preferred language to address target"),
    "deadline": _labelled("please take action as soon as possible until"),
    "people": _labelled("name and preferred pronouns?"),
    "previous_reference": _labelled("link to previous ua"),
}


def _numbers(space: str) -> tuple[str, str]:
    """A UA number ("UA 12/26", "UA no. 12/26") and an AI index ("Index: MDE 13/1234/2026"), `space` between parts."""
    reference = rf"\bUA{space}*+(?:(?:no\.?|number){space}*+)?(?::{space}*+)?(\d++/\d+)"
    ai_index = rf"\b(?:AI{space}++)?index{space}*+(?:no\.?{space}*+)?(?::{space}*+)?([A-Z]{{3}}{space}*+\d{{2}}/\d{{3,5}}/\d{{4}})"
    return reference, ai_index


# The head's first UA number and index, which may break across lines.
REFERENCE, AI_INDEX = (re.compile(pattern, re.I) for pattern in _numbers(r"\s"))
# What marks a line of the head as metadata rather than title or summary: the banner alone, a date, or (on a
# short line) a UA number or an index. The first match on a line decides, as the `^` alternatives come first.
NUMBER_ON_A_LINE = "|".join(_numbers(r"[^\S\n]"))
METADATA = re.compile(
    rf"^{LINE_SPACE}{_words('urgent action')}{LINE_SPACE}$|^{LINE_SPACE}date{LINE_SPACE}:|(?P<number>{NUMBER_ON_A_LINE})",
    re.I | re.M,
)
METADATA_LINE_MAX = 159  # characters, once stripped: a longer line naming a UA number is part of the summary
SALUTATION = re.compile(
    # (?=[dempsy]) passes over a line at once when no salutation could begin it.
    rf"^{LINE_SPACE}(?=[dempsy])(dear|mr|mrs|ms|miss|dr|excellency|{_words('your excellency')}|sir|madam|minister|president|"
    rf"señor|señora|sr|sra|estimad[oa]|monsieur|madame)\b.*,{LINE_SPACE}$",
    re.I | re.M,
)
CLOSING = re.compile(
    rf"^{LINE_SPACE}({_words('yours ')}(sincerely|faithfully|truly)|sincerely|{_words('kind regards')}|regards|atentamente|cordialement)\b",
    re.I | re.M,
)
HONORIFIC = re.compile(r"^(dear\s+)?(mr|mrs|ms|miss|dr|sr|sra|señor|señora|monsieur|madame)\.?\s+", re.I)
MARKDOWN_LINK = re.compile(r"\[([^\[\]]++)\]\([^)\[]*+\)")
SPACE_RUN = re.compile(r"[^\S\n]++")
SPACE_AT_LINE_EDGE = re.compile(r" ?\n ?")
DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y-%m-%d", "%d/%m/%Y")

REQUIRED = ("title", "target", "model_letter", "deadline")


class UnreadableDocument(ValueError):
    def __init__(self, missing: list[str]):
        super().__init__("could not find: " + ", ".join(missing))
        self.missing = missing


class DocumentTooLong(ValueError):
    """More text than any UA holds, refused before reading a character of it."""

    def __init__(self, length: int):
        super().__init__(f"a UA document has at most {MAX_DOCUMENT_CHARS:,} characters; this one has {length:,}")
        self.length = length
        self.limit = MAX_DOCUMENT_CHARS


def _without_metadata(head: str) -> str:
    """The head's lines but its metadata lines, joined by line breaks again.

    One pass over the whole head, not three searches a line: a megabyte of short lines would cost seconds so."""
    kept, kept_from, next_line = [], 0, 0
    for m in METADATA.finditer(head):
        if m.start() < next_line:
            continue  # a line already decided by its first match
        line_start = max(next_line, head.rfind("\n", next_line, m.start()) + 1)
        line_end = head.find("\n", m.end())
        line_end = len(head) if line_end == -1 else line_end
        if m.group("number") is None or len(head[line_start:line_end].strip()) <= METADATA_LINE_MAX:
            if line_start > kept_from:
                kept.append(head[kept_from : line_start - 1])
            kept_from = line_end + 1
        next_line = line_end + 1
    if kept_from <= len(head):
        kept.append(head[kept_from:])
    return "\n".join(kept)


def _tidy(paragraph: str) -> str:
    """One paragraph with its inner runs of spaces collapsed and its lines stripped (line breaks kept).

    Two passes over the whole paragraph rather than a split and a join for each line: cheaper by far when an
    attacker's paragraph is half a million lines."""
    return SPACE_AT_LINE_EDGE.sub("\n", SPACE_RUN.sub(" ", paragraph)).strip(" ")


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _parse_date(text: str) -> date | None:
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().rstrip(".")).replace(",", "")
    cleaned = re.sub(r"\s+", " ", cleaned)
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def _sentence_case(title: str, body: str) -> str:
    """An ALL-CAPS heading in sentence case, keeping words the body always capitalises."""
    if title != title.upper():
        return title
    words = title.lower().split()
    proper = {w.lower(): w for w in re.findall(r"\b[A-ZÁÉÍÓÚÑ][a-zà-ÿ'-]+\b", body)}
    lower_seen = set(re.findall(r"\b[a-zà-ÿ][\wÀ-ÿ'-]+", body))
    out = [proper[w] if w in proper and w not in lower_seen else w for w in words]
    out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def _name_line(block: list[str], salutation: str) -> int | None:
    """The index of a line after the first that holds the salutation's surname, when the name stands alone."""
    name = HONORIFIC.sub("", salutation.strip().rstrip(",")).strip()
    surname = fold(name.split()[-1]) if name.split() else ""
    if not surname or surname in {"minister", "excellency", "sir", "madam", "president"}:
        return None
    for index, line in enumerate(block[1:4], start=1):
        if surname in fold(line).split() and surname not in fold(block[0]).split():
            return index
    return None


def _split_target(line: str, salutation: str | None) -> tuple[str, str | None]:
    """ "President of the Republic Nicolas Maduro" → name, title, helped by the salutation's name."""
    line = line.strip().rstrip(",")
    if salutation:
        name = HONORIFIC.sub("", salutation.strip().rstrip(",")).strip()
        folded_line, folded_name = fold(line), fold(name)
        if folded_name and folded_line.endswith(folded_name) and folded_name != folded_line:
            return name, line[: len(line) - len(name)].strip().rstrip(",") or None
        if folded_name and folded_line.startswith(folded_name) and folded_name != folded_line:
            return name, line[len(name) :].strip(" ,") or None
        if folded_name and folded_name in folded_line:
            return name, line or None
    words = line.split()
    if len(words) > 2:
        return " ".join(words[-2:]), " ".join(words[:-2])
    return line, None


def parse_ua_document(text: str) -> dict:
    """The case fields found in `text`; raises UnreadableDocument naming what a case needs and lacks,
    DocumentTooLong past MAX_DOCUMENT_CHARS."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise DocumentTooLong(len(text))
    text = MARKDOWN_LINK.sub(r"\1", text.replace("\r\n", "\n").replace("\r", "\n"))
    fields: dict = {}
    found = {key: rx.search(text) for key, rx in LABELLED.items()}
    labelled = {key: " ".join(m.group(1).split()) if m else None for key, m in found.items()}
    tail_start = min([m.start() for m in found.values() if m] or [len(text)])

    action = HEADING_TAKE_ACTION.search(text)
    additional = HEADING_ADDITIONAL.search(text)
    head = text[: action.start()] if action else text[:tail_start]

    if m := REFERENCE.search(head):
        fields["reference"] = f"UA {m.group(1)}"
    if m := AI_INDEX.search(head):
        fields["ai_index"] = re.sub(r"^([A-Z]{3})\s*", r"\1 ", m.group(1).upper())

    # The head is: optional metadata lines (UA number, index, date), URGENT ACTION, the title, the summary.
    head_paragraphs = [" ".join(p.split()) if "\n" not in p else p for p in _paragraphs(_without_metadata(head))]
    # A title is a short single line without closing punctuation, as headlines are.
    first = head_paragraphs[0] if head_paragraphs else ""
    if first and len(first) <= 200 and "\n" not in first and first[-1] not in ".,;:":
        fields["title"] = _sentence_case(first, text)
        fields["summary"] = "\n\n".join(_tidy(p) for p in head_paragraphs[1:])

    if action:
        letter_end = additional.start() if additional else tail_start
        _read_letter(text[action.end() : letter_end], fields)
    if additional:
        fields["additional_information"] = (
            "\n\n".join(_tidy(p) for p in _paragraphs(text[additional.end() : tail_start])) or None
        )

    if labelled["target_language"]:
        first_word = labelled["target_language"].split()[0].strip(".,;")
        fields["target_language"] = code_for(first_word) if len(first_word) <= LANGUAGE_NAME_MAX else None
    if labelled["deadline"] and (deadline := _parse_date(labelled["deadline"])):
        fields["deadline"] = deadline.isoformat()
    if labelled["people"]:
        people, pronoun = _trailing_parenthesis(labelled["people"])
        if pronoun is not None:
            fields["pronoun"] = pronoun
        fields["people"] = people
    if labelled["previous_reference"]:
        fields["previous_reference"] = labelled["previous_reference"]

    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        raise UnreadableDocument(missing)
    return fields


def _trailing_parenthesis(text: str) -> tuple[str, str | None]:
    """ "Sharifeh Mohammadi (she/her)" → the name, "she/her": what stands in the last parenthesis, when it ends the text.

    Found from the end, not with a search for "(": that search would scan from every "(" of a long run."""
    text = text.rstrip()
    if not text.endswith(")"):
        return text, None
    opening = text.find("(", text.rfind(")", 0, len(text) - 1) + 1, len(text) - 1)
    if opening == -1:
        return text, None
    return text[:opening].strip(), text[opening + 1 : -1].strip()


def _read_letter(section: str, fields: dict) -> None:
    """The target block, address, salutation, letter body and closing after TAKE ACTION."""
    found = SALUTATION.search(section)
    if found is None:
        return
    salutation = " ".join(found.group().split()).rstrip(",").rstrip()  # "Dear Minister ," too
    block = [" ".join(words) for line in section[: found.start()].split("\n") if (words := line.split())]
    body = section[found.end() + 1 :]
    closing = CLOSING.search(body)
    letter = "\n\n".join(_paragraphs(body[: closing.start()] if closing else body))
    if block:
        name_at = _name_line(block, salutation)
        if name_at:  # "Head of the Judiciary" above "Gholamhossein Mohseni Ejei"
            name, title = block[name_at].rstrip(","), ", ".join(line.rstrip(",") for line in block[:name_at])
        else:
            name, title = _split_target(block[0], salutation)
        address = [line.rstrip(",") for line in block[(name_at or 0) + 1 :]]
        fields["target"] = {
            "name": name,
            "title": title,
            "address": "\n".join(address) or None,
            "salutation": salutation,
        }
        if address and "," in address[-1]:
            fields["country"] = address[-1].rsplit(",", 1)[1].strip() or None
        elif address:
            fields["country"] = address[-1]
    if letter:
        fields["model_letter"] = "\n\n".join(_tidy(p) for p in _paragraphs(letter))
