"""LOG_FORMAT=json: every line of the web (gunicorn) and the worker one JSON object, redacted like the text lines."""

import io
import json
import logging
import subprocess
import sys

from mobilise.logs import RedactedJsonFormatter
from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters
from .conftest import ROOT, run_flask
from .test_logs import request, serving


def json_lines(text: str) -> list[dict]:
    """Each non-empty line as JSON; a line that is not JSON fails the test, quoting it."""
    parsed = []
    for line in filter(None, text.splitlines()):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line[:300]!r}") from None
    return parsed


def test_gunicorn_writes_its_own_lines_and_the_access_lines_as_json(app, service_env, tmp_path):
    env = {**service_env, "LOG_FORMAT": "json"}
    gunicorn = lambda port: [
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "app:app",
    ]  # noqa: E731
    with serving(gunicorn, env, tmp_path, "gunicorn") as (port, log):
        assert request(port, "GET", "/healthz")[0] == 200
        assert request(port, "GET", "/act/not-a-token.at-all?email=rowena@example.net")[0] == 404
    lines = json_lines(log())
    assert {"timestamp", "level", "logger", "message"} <= lines[0].keys()
    access = [line["message"] for line in lines if line["logger"] == "gunicorn.access"]
    assert any('"GET /healthz HTTP/1.1" 200' in message for message in access)
    assert any('"GET /act/<token> HTTP/1.1" 404' in message for message in access)  # the token withheld
    assert "rowena" not in log()
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines)


def test_the_worker_writes_rq_lines_and_its_own_as_json(app, relay, service_env):
    office = make_office()
    make_supporters(office, 2)
    start_drive(make_case(), office, {"office": "GB"})
    worker = run_flask({**service_env, "LOG_FORMAT": "json"}, "worker", "--burst")
    assert worker.returncode == 0, worker.stderr[-3000:]
    lines = json_lines(worker.stdout + worker.stderr)
    loggers = {line["logger"] for line in lines}
    assert "rq.worker" in loggers  # RQ's own lines went through the JSON handler, not its coloured one
    assert any(name.startswith("mobilise.") for name in loggers)
    assert all(line["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") for line in lines)
    assert len(relay.messages()) == 2  # and the work was done


def test_a_traceback_in_json_is_redacted_like_a_text_line():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactedJsonFormatter())
    logger = logging.getLogger("mobilise.test_json")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("refused row for someone@example.org at /act/AbCdEf123.XyZ")
        except ValueError:
            logger.error(
                "could not send to someone@example.org",
                exc_info=True,
                extra={"arguments": "('rowena@example.net', 42)"},
            )
    finally:
        logger.removeHandler(handler)
    (line,) = json_lines(stream.getvalue())
    assert line["level"] == "ERROR" and line["logger"] == "mobilise.test_json"
    assert "ValueError" in line["exc_info"]
    assert "someone@example.org" not in stream.getvalue()
    assert "AbCdEf123" not in stream.getvalue()
    assert "<address>" in line["message"] and "<address>" in line["exc_info"]
    assert line["arguments"] == "('<address>', 42)" and "rowena" not in stream.getvalue()  # an extra field too


def test_an_unknown_log_format_stops_the_service_saying_so(service_env):
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "dispatch"],
        cwd=ROOT,
        env={**service_env, "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json, not 'xml'" in result.stderr
