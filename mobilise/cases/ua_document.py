"""Reads the plain text of a UA document (the format of shared/seeds/ua-document.txt) into case fields.

The document is a sequence of sections under capitalised headings. We find the headings
case-insensitively and tolerate extra spacing and missing optional parts; what a case
cannot do without (title, target, model letter, deadline) is reported when missing.
"""
import re
import unicodedata
from datetime import date, datetime

from ..languages import code_for

HEADING_TAKE_ACTION = re.compile(r"^\s*take action\b.*$", re.I | re.M)
HEADING_ADDITIONAL = re.compile(r"^\s*additional information\s*$", re.I | re.M)
LABELLED = {
    "target_language": re.compile(r"^\s*preferred language to address target\s*:\s*(.+)$", re.I | re.M),
    "deadline": re.compile(r"^\s*please take action as soon as possible until\s*:\s*(.+)$", re.I | re.M),
    "people": re.compile(r"^\s*name and preferred pronouns?\s*:\s*(.+)$", re.I | re.M),
    "previous_reference": re.compile(r"^\s*link to previous ua\s*:\s*(.+)$", re.I | re.M),
}
REFERENCE = re.compile(r"\bUA\s*(?:no\.?|number)?\s*:?\s*(\d+/\d+)", re.I)
AI_INDEX = re.compile(r"\b(?:AI\s+)?index\s*(?:no\.?)?\s*:?\s*([A-Z]{3}\s*\d{2}/\d{3,5}/\d{4})", re.I)
SALUTATION = re.compile(
    r"^(dear|mr|mrs|ms|miss|dr|excellency|your excellency|sir|madam|minister|president|"
    r"señor|señora|sr|sra|estimad[oa]|monsieur|madame)\b.*,\s*$",
    re.I,
)
CLOSING = re.compile(r"^(yours (sincerely|faithfully|truly)|sincerely|kind regards|regards|atentamente|cordialement)\b", re.I)
HONORIFIC = re.compile(r"^(dear\s+)?(mr|mrs|ms|miss|dr|sr|sra|señor|señora|monsieur|madame)\.?\s+", re.I)
MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y-%m-%d", "%d/%m/%Y")

REQUIRED = ("title", "target", "model_letter", "deadline")


class UnreadableDocument(ValueError):
    def __init__(self, missing: list[str]):
        super().__init__("could not find: " + ", ".join(missing))
        self.missing = missing


def _is_metadata(line: str) -> bool:
    stripped = line.strip()
    return bool(
        re.fullmatch(r"urgent action", stripped, re.I)
        or (len(stripped) < 160 and (REFERENCE.search(stripped) or AI_INDEX.search(stripped)))
        or re.match(r"date\s*:", stripped, re.I)
    )


def _tidy(paragraph: str) -> str:
    """One paragraph with its inner runs of spaces collapsed (line breaks kept)."""
    return "\n".join(" ".join(line.split()) for line in paragraph.split("\n"))


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _fold(text: str) -> str:
    """Accent- and case-insensitive form, so "Nicolas" finds "Nicolás"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


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
    surname = _fold(name.split()[-1]) if name.split() else ""
    if not surname or surname in {"minister", "excellency", "sir", "madam", "president"}:
        return None
    for index, line in enumerate(block[1:4], start=1):
        if surname in _fold(line).split() and surname not in _fold(block[0]).split():
            return index
    return None


def _split_target(line: str, salutation: str | None) -> tuple[str, str | None]:
    """"President of the Republic Nicolas Maduro" → name, title, helped by the salutation's name."""
    line = line.strip().rstrip(",")
    if salutation:
        name = HONORIFIC.sub("", salutation.strip().rstrip(",")).strip()
        folded_line, folded_name = _fold(line), _fold(name)
        if folded_name and folded_line.endswith(folded_name) and folded_name != folded_line:
            return name, line[: len(line) - len(name)].strip().rstrip(",") or None
        if folded_name and folded_line.startswith(folded_name) and folded_name != folded_line:
            return name, line[len(name):].strip(" ,") or None
        if folded_name and folded_name in folded_line:
            return name, line or None
    words = line.split()
    if len(words) > 2:
        return " ".join(words[-2:]), " ".join(words[:-2])
    return line, None


def parse_ua_document(text: str) -> dict:
    """The case fields found in `text`; raises UnreadableDocument naming what a case needs and lacks."""
    text = MARKDOWN_LINK.sub(r"\1", text.replace("\r\n", "\n").replace("\r", "\n"))
    fields: dict = {}
    labelled = {key: (m.group(1).strip() if (m := rx.search(text)) else None) for key, rx in LABELLED.items()}
    tail_start = min([m.start() for rx in LABELLED.values() if (m := rx.search(text))] or [len(text)])

    action = HEADING_TAKE_ACTION.search(text)
    additional = HEADING_ADDITIONAL.search(text)
    head = text[: action.start()] if action else text[:tail_start]

    if m := REFERENCE.search(head):
        fields["reference"] = f"UA {m.group(1)}"
    if m := AI_INDEX.search(head):
        fields["ai_index"] = re.sub(r"^([A-Z]{3})\s*", r"\1 ", m.group(1).upper())

    # The head is: optional metadata lines (UA number, index, date), URGENT ACTION, the title, the summary.
    kept = [line for line in head.split("\n") if not _is_metadata(line)]
    head_paragraphs = [" ".join(p.split()) if "\n" not in p else p for p in _paragraphs("\n".join(kept))]
    # A title is a short single line without closing punctuation, as headlines are.
    first = head_paragraphs[0] if head_paragraphs else ""
    if first and len(first) <= 200 and "\n" not in first and first[-1] not in ".,;:":
        fields["title"] = _sentence_case(first, text)
        fields["summary"] = "\n\n".join(_tidy(p) for p in head_paragraphs[1:])

    if action:
        letter_end = additional.start() if additional else tail_start
        _read_letter(text[action.end(): letter_end], fields)
    if additional:
        fields["additional_information"] = "\n\n".join(_tidy(p) for p in _paragraphs(text[additional.end(): tail_start])) or None

    if labelled["target_language"]:
        first_word = labelled["target_language"].split()[0].strip(".,;")
        fields["target_language"] = code_for(first_word)
    if labelled["deadline"] and (deadline := _parse_date(labelled["deadline"])):
        fields["deadline"] = deadline.isoformat()
    if labelled["people"]:
        people = labelled["people"]
        if m := re.search(r"\(([^)]*)\)\s*$", people):
            fields["pronoun"] = m.group(1).strip()
            people = people[: m.start()].strip()
        fields["people"] = people
    if labelled["previous_reference"]:
        fields["previous_reference"] = labelled["previous_reference"]

    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        raise UnreadableDocument(missing)
    return fields


def _read_letter(section: str, fields: dict) -> None:
    """The target block, address, salutation, letter body and closing after TAKE ACTION."""
    lines = section.split("\n")
    salutation_at = next((i for i, line in enumerate(lines) if SALUTATION.match(line.strip())), None)
    if salutation_at is None:
        return
    salutation = lines[salutation_at].strip()
    block = [line.strip() for line in lines[:salutation_at] if line.strip()]
    body_lines = lines[salutation_at + 1:]
    closing_at = next((i for i, line in enumerate(body_lines) if CLOSING.match(line.strip())), len(body_lines))
    letter = "\n\n".join(_paragraphs("\n".join(body_lines[:closing_at])))
    if block:
        block = [_tidy(line) for line in block]
        name_at = _name_line(block, salutation)
        if name_at:  # "Head of the Judiciary" above "Gholamhossein Mohseni Ejei"
            name, title = block[name_at].rstrip(","), ", ".join(line.rstrip(",") for line in block[:name_at])
        else:
            name, title = _split_target(block[0], salutation)
        address = [line.rstrip(",") for line in block[(name_at or 0) + 1:]]
        fields["target"] = {
            "name": name,
            "title": title,
            "address": "\n".join(address) or None,
            "salutation": salutation.rstrip(","),
        }
        if address and "," in address[-1]:
            fields["country"] = address[-1].rsplit(",", 1)[1].strip() or None
        elif address:
            fields["country"] = address[-1]
    if letter:
        fields["model_letter"] = "\n\n".join(_tidy(p) for p in _paragraphs(letter))
