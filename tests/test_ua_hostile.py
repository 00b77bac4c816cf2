"""Hostile text for the UA reader: any input is read in time linear in its length, and comes out as a case, as
UnreadableDocument or as DocumentTooLong, never as another exception."""

import re
import signal
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from random import Random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobilise.cases.ua_document import (
    MAX_DOCUMENT_CHARS,
    DocumentTooLong,
    UnreadableDocument,
    _without_metadata,
    parse_ua_document,
)

from .builders import bearer, token_for
from .test_ua_document import SEED

HERE = Path(__file__).resolve().parent
REAL_DOCUMENTS = [SEED.read_text(encoding="utf-8")] + [
    path.read_text(encoding="utf-8") for path in sorted((HERE / "ua_documents").glob("*.txt"))
]
# CPU seconds for a whole megabyte. A linear read takes a fraction of a second on a quiet machine, up to twice
# that on a busy CI runner (caches shared); the reader before took from seconds ("[" * 20,000) to hours (a
# megabyte of spaces after "UA") on the same inputs, so the bound still tells the two apart by far.
BUDGET = 2.0
# Every kind of whitespace but the line break: text pasted from PDFs and word processors holds them all.
SPACES = " \t\xa0\f\v\x1c\x1f\x85\u2000\u200a\u2028\u2029\u202f\u3000"


class TookTooLong(Exception):
    pass


@contextmanager
def cpu_budget(seconds: float):
    """Fails a read that takes more than `seconds` of CPU, and stops one that would go on for hours."""

    def stop(signum, frame):
        raise TookTooLong(f"still reading after {10 * seconds:.0f} CPU seconds")

    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, 10 * seconds)
    # This thread's CPU, the reader's: the process's would count whatever other threads of the test session do
    # meanwhile (web servers, event buffers of earlier tests), which a CI run saw add seconds to a short read.
    start = time.thread_time()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    spent = time.thread_time() - start
    assert spent < seconds, f"{spent:.2f} CPU seconds"


def read(text: str):
    """The case read, or the reader's own refusal; any other exception fails the test that calls it."""
    try:
        return parse_ua_document(text)
    except (UnreadableDocument, DocumentTooLong) as refusal:
        return refusal


def megabyte(prefix: str, unit: str, suffix: str = "") -> str:
    """`prefix`, `unit` repeated, `suffix`: exactly MAX_DOCUMENT_CHARS characters, the most the reader reads."""
    room = MAX_DOCUMENT_CHARS - len(prefix) - len(suffix)
    middle = (unit * (room // len(unit) + 1))[:room]
    return prefix + middle + suffix


def around_the_letter(block: str, letter: str = "Release them.") -> str:
    """A whole UA whose target block and letter are what an attacker chose."""
    return (
        f"URGENT ACTION\n\nTitle\n\nTAKE ACTION\n\n{block}\n\nDear Mr X,\n\n{letter}\n\n"
        "PLEASE TAKE ACTION AS SOON AS POSSIBLE UNTIL: 1 May 2030\n"
    )


def padded_to_a_megabyte(document: str, at: str, unit: str) -> str:
    """`document` with `unit` repeated where `at` stands, to a megabyte in all."""
    before, after = document.split(at, 1)
    return megabyte(before, unit, after)


HOSTILE = {
    "UA, a megabyte of spaces, x": lambda: megabyte("UA", " ", "x"),
    "UA, no-break spaces, x": lambda: megabyte("UA", "\xa0", "x"),
    "UA, tabs, x": lambda: megabyte("UA", "\t", "x"),
    "UA no, spaces, x": lambda: megabyte("UA no", " ", "x"),
    "AI index, spaces, x": lambda: megabyte("AI index", " ", "x"),
    "lines of UA and 150 spaces": lambda: megabyte("", "UA" + " " * 150 + "x\n"),
    "line breaks": lambda: megabyte("", "\n"),
    "carriage returns": lambda: megabyte("", "\r"),
    "CRLFs": lambda: megabyte("", "\r\n"),
    "form feeds": lambda: megabyte("", "\f"),
    "line breaks and no-break spaces alternating": lambda: megabyte("", "\n\xa0"),
    "every kind of whitespace in turn": lambda: megabyte("", SPACES + "\n"),
    "opening brackets": lambda: megabyte("", "["),
    "links never closed": lambda: megabyte("", "[a]("),
    "opening parentheses": lambda: megabyte("", "("),
    "one long line of one character": lambda: megabyte("", "x"),
    "UA repeated": lambda: megabyte("", "UA "),
    "UA and a megabyte of digits": lambda: megabyte("UA ", "1"),
    "lines of UA numbers": lambda: megabyte("", "UA 1/1\n"),
    "lines of dates": lambda: megabyte("", "Date:\n"),
    "TAKE ACTION repeated": lambda: megabyte("", "TAKE ACTION\n"),
    "ADDITIONAL INFORMATION repeated": lambda: megabyte("", "ADDITIONAL INFORMATION\n"),
    "a label repeated": lambda: megabyte("", "PLEASE TAKE ACTION AS SOON AS POSSIBLE UNTIL:\n"),
    "a label and a megabyte of line breaks": lambda: megabyte("PREFERRED LANGUAGE TO ADDRESS TARGET:", "\n"),
    "a pronoun line of parentheses never closed": lambda: megabyte(
        "URGENT ACTION\n\nT\n\nNAME AND PREFERRED PRONOUN: ", "(", "x"
    ),
    "a salutation of commas": lambda: padded_to_a_megabyte(around_the_letter("Minister X"), "Dear Mr X", ", x"),
    "a target block of short lines": lambda: padded_to_a_megabyte(around_the_letter("Minister X\n#"), "#", "x\n"),
    "a letter of short lines": lambda: padded_to_a_megabyte(around_the_letter("Minister X", "#"), "#", "x\n"),
    "a summary of short paragraphs": lambda: padded_to_a_megabyte(
        around_the_letter("Minister X").replace("Title\n", "Title\n\n#\n"), "#", "x\n\n"
    ),
    # NFKD sorts a run of combining marks by insertion: quadratic, in C, beyond the reach of any signal.
    "a target of combining marks": lambda: padded_to_a_megabyte(around_the_letter("Minister X#"), "#", "\u0301\u0316"),
    "a language of combining marks": lambda: megabyte("PREFERRED LANGUAGE TO ADDRESS TARGET: a", "\u0301\u0316"),
    "a real UA with its spaces blown up": lambda: padded_to_a_megabyte(SEED.read_text(encoding="utf-8"), "CEASE", " "),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_megabyte_of_hostile_text_is_read_in_well_under_a_second(name):
    text = HOSTILE[name]()
    assert len(text) == MAX_DOCUMENT_CHARS
    with cpu_budget(BUDGET):
        outcome = read(text)
    assert isinstance(outcome, (dict, UnreadableDocument))


def test_the_attackers_document_answers_a_quick_422(app, client):
    admin = token_for("admin@example.org", admin=True)
    started = time.monotonic()
    response = client.post(
        "/api/v1/cases/import", data="UA" + " " * 2000 + "x", content_type="text/plain", headers=bearer(admin)
    )
    assert response.status_code == 422 and response.json["details"] == ["target", "model_letter", "deadline"]
    assert time.monotonic() - started < 1  # was 38 seconds, and a killed worker


def test_a_document_past_the_limit_is_refused_unread_and_the_api_names_the_field(app, client):
    with cpu_budget(0.1), pytest.raises(DocumentTooLong) as refused:
        parse_ua_document(megabyte("UA", " ", "x") + " ")
    assert "1,000,000" in str(refused.value)

    admin = token_for("admin@example.org", admin=True)
    text = SEED.read_text(
        encoding="utf-8"
    ).strip()  # as the API reads it: a body's outer whitespace is not the document's
    response = client.post(
        "/api/v1/cases/import",
        json={"text": text + "\n" + "x" * (MAX_DOCUMENT_CHARS - len(text))},
        headers=bearer(admin),
    )
    assert response.status_code == 422
    assert [detail["field"] for detail in response.json["details"]] == ["text"]
    assert "1,000,000 characters" in response.json["details"][0]["error"]


def test_nul_characters_inside_a_ua_do_not_crash_the_reader():
    seed = SEED.read_text(encoding="utf-8")
    for text in (seed.replace(" ", "\x00"), seed.replace("\n", "\x00\n"), "\x00" * 1000, seed.replace("a", "\x00", 50)):
        assert isinstance(read(text), (dict, UnreadableDocument))
    # A NUL inside a word leaves the rest of the document as it was.
    assert read(seed.replace("Palacio", "Pala\x00cio"))["title"] == "Cease detentions and attacks on defenders"


# Property-based: Hypothesis makes the inputs. Runs of up to 20,000 characters are long enough for any
# super-linear step to show (the reader before needed minutes for one), short enough for a fast suite.
KEYWORDS = [
    "URGENT ACTION",
    "UA",
    "UA 12/26",
    "UA no. 1/2",
    "UA: 3/4",
    "UA number",
    "AI index",
    "Index: MDE 13/1234/2026",
    "Date:",
    "TAKE ACTION",
    "ADDITIONAL INFORMATION",
    "PREFERRED LANGUAGE TO ADDRESS TARGET:",
    "Spanish",
    "PLEASE TAKE ACTION AS SOON AS POSSIBLE UNTIL:",
    "21 November 2025",
    "21st",
    "NAME AND PREFERRED PRONOUNS:",
    "(they/them)",
    "LINK TO PREVIOUS UA:",
    "Dear Mr Nicolás Maduro,",
    "Your Excellency,",
    "Yours sincerely,",
    "Kind regards,",
    "President of the Republic",
    "[",
    "]",
    "(",
    ")",
    "](",
    "[link](#)",
    ":",
    ",",
    "/",
    "\u0301",
]
LINES = [keyword for keyword in KEYWORDS if len(keyword) > 3]
wide_text = st.text(st.one_of(st.characters(), st.sampled_from(list(SPACES + "\n\r[]():/.,"))), max_size=200)
a_run = st.builds(
    lambda unit, times: unit * times,
    st.sampled_from([*SPACES, "\n", "\r", "[", "(", "UA ", "x", "\u0301\u0316"]),
    st.integers(1, 20_000),
)
a_spaced_line = st.builds(
    lambda line, space: line.replace(" ", space),
    st.sampled_from(LINES),
    st.text(st.sampled_from(SPACES), min_size=1, max_size=4),
)
a_line_break = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\n\f\n", "\n \n"])
any_text = st.lists(st.one_of(wide_text, st.sampled_from(KEYWORDS), a_run), max_size=30).map("".join)
assembled = st.lists(st.tuples(st.one_of(a_spaced_line, a_run, wide_text), a_line_break), max_size=40).map(
    lambda lines: "".join(line + line_break for line, line_break in lines)
)
PROPERTY = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY
@given(any_text)
def test_any_text_comes_out_a_case_or_unreadable_in_bounded_time(text):
    with cpu_budget(BUDGET):
        assert isinstance(read(text), (dict, UnreadableDocument))


@PROPERTY
@given(assembled)
def test_headings_and_labels_assembled_any_way_come_out_a_case_or_unreadable_in_bounded_time(text):
    with cpu_budget(BUDGET):
        assert isinstance(read(text), (dict, UnreadableDocument))


def _tidied(value):
    """A field with every run of whitespace as one space: what a reader of the case sees."""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {key: _tidied(item) for key, item in value.items()}
    return value


@PROPERTY
@given(st.sampled_from(REAL_DOCUMENTS), st.integers(0, 2**32))
def test_a_real_ua_with_any_spacing_and_line_breaks_reads_as_the_original(document, seed):
    """As a UA pasted from a PDF: runs of every kind of space between words, spaces before line breaks, one
    kind of line break throughout (a CR followed by an LF would be one CRLF, not two breaks)."""
    choose = Random(seed).choice
    spaces = ["  ", "\t", "\xa0", "\u3000", " \f", "\u2028", " \xa0 "]
    line_break = choose(["\n", "\r\n", "\r"])
    respaced = re.sub(" ", lambda _: choose(spaces), document)
    respaced = re.sub("\r?\n", lambda _: choose(["", " ", "\t", "\xa0 "]) + line_break, respaced)
    original, again = read(document), read(respaced)
    if isinstance(original, dict):
        assert _tidied(again) == _tidied(original)
    else:
        assert isinstance(again, UnreadableDocument) and again.missing == original.missing


def _metadata_line_as_it_was(line: str) -> bool:
    """The reader's rule for a metadata line before it searched the head in one pass, three searches a line."""
    stripped = line.strip()
    return bool(
        re.fullmatch(r"urgent action", stripped, re.I)
        or (
            len(stripped) < 160
            and (
                re.search(r"\bUA\s*(?:no\.?|number)?\s*:?\s*(\d+/\d+)", stripped, re.I)
                or re.search(r"\b(?:AI\s+)?index\s*(?:no\.?)?\s*:?\s*([A-Z]{3}\s*\d{2}/\d{3,5}/\d{4})", stripped, re.I)
            )
        )
        or re.match(r"date\s*:", stripped, re.I)
    )


head_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "URGENT ACTION",
                " Urgent Action ",
                "Date: 3 March 2026",
                "date :",
                "UA 12/26",
                "Index: MDE 13/1234/2026",
                "First UA: 12/26 Index: MDE 13/1234/2026 Iran Date: 3 March 2026",
                "x" * 150 + " UA 1/2",
                "",
                " ",
            ]
        ),
        st.text(st.sampled_from(list(" \t\xa0UAaIindexno.:/1MDE")), max_size=20),
    ),
    max_size=12,
).map("\n".join)


@settings(max_examples=300, deadline=timedelta(seconds=2), database=None)
@given(head_lines)
def test_the_head_loses_the_same_metadata_lines_as_before(head):
    kept = [line for line in head.split("\n") if not _metadata_line_as_it_was(line)]
    assert _without_metadata(head) == "\n".join(kept)
