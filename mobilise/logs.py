"""No token and nothing personal in a log line, whichever library writes it.

A link's token lets anyone holding it act or unsubscribe for the supporter, and a database error's text
quotes the row it refused (PostgreSQL's `DETAIL: Failing row contains (…)`, SQLAlchemy's `[parameters: …]`).
So every record any logger of the process makes (gunicorn's access and error logs, werkzeug's request lines
under `flask run`, RQ's worker, Flask's logged exceptions, ours) is redacted once, where it is made: a
record factory, so no handler added later by a library (RQ adds its own as it starts) can bypass it.
What is kept: the route (`/act/<token>`), the status, the timing; an error's traceback and message, less
the values they quote.
"""

import logging
import os
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from .networks import network_of

# Each link's token is the path segment after its route; /o/TOKEN.gif loses its ".gif" too.
LINK = re.compile(r"(/(?:o|c|act|unsubscribe|confirm|preferences)/)[^\s\"'<>?#/]+")
# A signed token anywhere else (a referer, a mailto): itsdangerous's payload, ".", then a 27-character HMAC-SHA1.
SIGNED = re.compile(r"\.?[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")
SIGNATURE = re.compile(r"\.[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")  # its cheap part, searched for first
API_TOKEN = re.compile(r"mob_[A-Za-z0-9_-]{16,}")
# A query string can carry anything (a search for an address, a form sent by GET): only the path is kept.
QUERY = re.compile(r"(/[^\s\"'<>?]*)\?[^\s\"'<>]*")
ADDRESS = re.compile(r"[\w.+!#$%&*^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# PostgreSQL's lines that quote the row or the key a statement was refused for.
# To the statement that follows, or the end: a refused row's values can run over several lines.
DETAIL = re.compile(r"^(\s*(?:DETAIL|CONTEXT):)[\s\S]*?(?=\n\[SQL:|\Z)", re.M)
PARAMETERS = re.compile(r"\[parameters: [^\n]*")
LINK_ROUTES = ("/o/", "/c/", "/act/", "/unsubscribe/", "/confirm/", "/preferences/")


def redact(text: str) -> str:
    # Each pattern is tried only where a plain substring test says it may match: most are costly to try
    # at every position, and every access line passes here.
    if "?" in text:
        text = QUERY.sub(r"\1", text)
    if any(route in text for route in LINK_ROUTES):
        text = LINK.sub(r"\1<token>", text)
    if "@" in text or "%40" in text:
        text = ADDRESS.sub("<address>", text)
    if SIGNATURE.search(text):
        text = SIGNED.sub("<token>", text)
    if "mob_" in text:
        text = API_TOKEN.sub("mob_<token>", text)
    if "DETAIL:" in text or "CONTEXT:" in text:
        text = DETAIL.sub(r"\1 <withheld>", text)
    if "[parameters: " in text:
        text = PARAMETERS.sub("[parameters withheld]", text)
    return text


_traceback = logging.Formatter()


def _redacted_record_factory(make):
    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        # Formatted here, once, redacted: a handler formats the message and the traceback from these.
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info:
            record.exc_text = redact(_traceback.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    make_record.redacts = True
    return make_record


def install() -> None:
    """Redact every log record this process makes from now on; idempotent."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts", False):
        logging.setLogRecordFactory(_redacted_record_factory(current))


class RedactedJsonFormatter(JsonFormatter):
    """One JSON object a line: timestamp (UTC, ISO 8601), level, logger, message, and any traceback.

    The library formats a record's traceback afresh from its exception, bypassing the redacted text the record
    factory left in `exc_text`: so it is redacted again here.
    """

    def __init__(self):
        super().__init__(
            "%(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level", "name": "logger"}, timestamp=True
        )

    def process_log_record(self, log_record: dict) -> dict:
        # A record's extra fields (RQ passes a job's arguments as extras) are written as fields of their own,
        # past the record factory's redaction of the message: redacted here, like the message.
        return {key: redact(value) if isinstance(value, str) else value for key, value in log_record.items()}

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(ei))

    def formatStack(self, stack_info) -> str:  # noqa: N802
        return redact(super().formatStack(stack_info))


LOG_FORMATS = ("text", "json")


def log_format(value: str | None = None) -> str:
    """LOG_FORMAT: `text` (the default) or `json`; anything else stops the process with a clear message."""
    chosen = (value if value is not None else os.environ.get("LOG_FORMAT") or "text").strip().lower()
    if chosen not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be text or json, not {chosen!r}")
    return chosen


def configure(level: int | None = None, fmt: str | None = None) -> None:
    """Where this process's lines go: stderr, as text, or one JSON object a line with LOG_FORMAT=json.

    With json, every logger reaches the one handler on the root (Flask's, werkzeug's and RQ's add their own
    only when none is there), so every line of the process is JSON; a handler added before is re-formatted.
    With text and handlers already set (a test's capture, gunicorn's), nothing changes.
    """
    install()
    root = logging.getLogger()
    if log_format(fmt) == "json":
        if not any(isinstance(h.formatter, RedactedJsonFormatter) for h in root.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(RedactedJsonFormatter())
            root.addHandler(handler)
        for handler in root.handlers:
            if type(handler) is logging.StreamHandler:
                handler.setFormatter(RedactedJsonFormatter())
    elif not root.handlers:
        logging.basicConfig(format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    if level is not None:
        root.setLevel(level)


def init_app(app) -> None:
    """The app's part: redacted records, and SQL parameters left out of every engine's errors and logs."""
    install()
    if log_format(app.config.get("LOG_FORMAT")) == "json":
        configure()
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {"pool_pre_ping": True}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "hide_parameters": True}


def access_atoms(atoms: dict) -> dict:
    """gunicorn's access-log atoms without what names a person: the client's network, not its address;
    no query string, referer, cookie or credentials (the format should not ask for them, but cannot get them)."""
    atoms["h"] = network_of(atoms.get("h")) or "-"
    atoms["r"] = f"{atoms.get('m')} {atoms.get('U')} {atoms.get('H')}"
    atoms["q"] = atoms["f"] = atoms["u"] = "-"
    for name in (
        "{referer}i",
        "{cookie}i",
        "{authorization}i",
        "{set-cookie}o",
        "{query_string}e",
        "{raw_uri}e",
        "{http_referer}e",
        "{http_cookie}e",
        "{http_authorization}e",
    ):
        atoms.pop(name, None)
    return atoms
