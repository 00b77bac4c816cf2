"""Reading a supporters CSV: its encoding, its rows by the physical line where each starts, and the cells
that no column could hold, told apart before any of them reaches the database.

Whatever the file holds, reading it takes memory bounded by ROW_LIMIT: a row is never longer than that
before it is rejected, and a rejected row's rest of line is skipped in pieces, never held whole.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from ..clock import to_naive_utc

COLUMNS = ("email", "first_name", "last_name", "language", "tags", "consent_source", "consent_at")
# The widths of the columns the cells go into (supporters, supporter_tags): a longer cell rejects its row
# here, with a reason staff can act on, rather than the whole batch in the database.
WIDTHS = {"email": 320, "first_name": 200, "last_name": 200, "language": 8, "consent_source": 200, "consent_at": 64}
TAG_WIDTH = 100
# No supporter needs more; a longer row is a mistake (a binary file, a whole document in a cell).
ROW_LIMIT = 65_536
YEARS = range(1900, 3000)

_moment = TypeAdapter(datetime)


class Refused(ValueError):
    """The whole file cannot be read: nothing after the last whole batch was imported."""


class _RowTooLong(Exception):
    pass


def encoding_of(head: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with its BOM. Any other encoding cannot be told for sure,
    so the file is refused whole rather than imported garbled."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the end of the sample
            raise Refused(
                "the file is not UTF-8 and its encoding cannot be told: save it as 'CSV UTF-8' and import it again"
            ) from None
    return "utf-8"


class _Lines:
    """The text's physical lines, counted, for csv.reader. A row growing past ROW_LIMIT raises _RowTooLong
    once the rest of its line is skipped; csv.reader then starts afresh at the next line."""

    def __init__(self, text):
        self.text, self.number, self.row_chars = text, 0, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.text.readline(ROW_LIMIT + 1)
        if not line:
            raise StopIteration
        self.number += 1
        self.row_chars += len(line)
        if self.row_chars > ROW_LIMIT:
            while line and not line.endswith(("\n", "\r")):
                line = self.text.readline(ROW_LIMIT + 1)
            raise _RowTooLong
        return line


def read_rows(raw, encoding: str) -> Iterator[tuple[int, dict, str | None, int]]:
    """(line where the row starts, its fields, why it is rejected or None, its size in characters) for each
    data row; line 1 is the header. The caller's binary file stays open."""
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    try:
        yield from _rows_of(text)
    finally:
        text.detach()


def _rows_of(text) -> Iterator[tuple[int, dict, str | None, int]]:
    first_line = text.readline(ROW_LIMIT + 1)
    text.seek(0)
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=dialect.delimiter, quotechar='"')
    try:
        header = [name.strip().lower().lstrip("\ufeff") for name in next(reader, [])]
    except (_RowTooLong, csv.Error):
        raise Refused(
            f"the header row is longer than {ROW_LIMIT:,} characters: is this a list of supporters?"
        ) from None
    if "email" not in header:
        raise Refused("the header row has no 'email' column")
    wanted = [(i, name) for i, name in enumerate(header) if name in COLUMNS]
    while True:
        start, lines.row_chars = lines.number + 1, 0
        try:
            values = next(reader)
        except StopIteration:
            return
        except _RowTooLong:
            yield start, {}, f"the row is longer than {ROW_LIMIT:,} characters", lines.row_chars
            continue
        except csv.Error as error:
            yield start, {}, f"not readable as CSV: {error}", lines.row_chars
            continue
        if any("\x00" in value for value in values):
            yield start, {}, "the row holds a NUL character", lines.row_chars
            continue
        row = _fields(values, wanted)
        if row or any(v.strip() for v in values):  # a row with only other columns filled is missing its address
            row.setdefault("email", "")
            yield start, row, _unfit(row), lines.row_chars


def _fields(values: list[str], wanted: list[tuple[int, str]]) -> dict:
    """The row's non-empty fields, trimmed: an empty cell leaves what the list holds as it is."""
    data = {}
    for i, name in wanted:
        if i < len(values) and (value := values[i].strip()):
            data[name] = value
    if "tags" in data:
        data["tags"] = [t.strip() for t in data["tags"].split(";") if t.strip()]
    return data


def _unfit(row: dict) -> str | None:
    """Why a cell cannot be stored as it is, else None; a readable consent_at is replaced by its datetime."""
    for name, value in row.items():
        if name == "tags":
            if any(len(tag) > TAG_WIDTH for tag in value):
                return f"tags: a tag is longer than {TAG_WIDTH} characters"
        elif len(value) > WIDTHS[name]:
            return f"{name}: longer than {WIDTHS[name]} characters"
    if "consent_at" in row:
        try:
            moment = _moment.validate_python(row["consent_at"])
        except ValidationError:
            return "consent_at: not a date and time such as 2025-03-31 or 2025-03-31T14:00:00Z"
        # Checked before and after the move to UTC: an offset can carry a moment over a year's end.
        if moment.year not in YEARS or (moment := to_naive_utc(moment)).year not in YEARS:
            return "consent_at: the year must be between 1900 and 2999"
        row["consent_at"] = moment
    return None
