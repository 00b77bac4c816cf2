"""Schemathesis against the live API: every call of the description, with valid and hostile input.

The server is real (werkzeug on loopback) on PostgreSQL, where NUL characters and over-long values fail
loudly, over the demo data and with an admin token, so every call reaches its rules. Each answer must be
no server error, a status the description names, JSON, and shaped as the description says; input outside
the description must be refused with a 4xx. The seed is fixed, so a failure found in CI comes back locally.
"""

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

from mobilise import create_app
from mobilise.auth.service import issue_token
from mobilise.cases.models import Case
from mobilise.demo import load_demo
from mobilise.extensions import db
from mobilise.jobs import redis_connection
from mobilise.sequences.models import Mailing
from mobilise.tracking.events import buffer_for

from . import conftest

# The budget: examples per call in the fuzzing phase, besides the examples and coverage phases' own cases.
# The whole run stays near two minutes in CI.
MAX_EXAMPLES = 15
PATH_EXAMPLES = 8
SEED = 15

CHECKS = {
    "not_a_server_error": {"enabled": True},
    "status_code_conformance": {"enabled": True},
    "content_type_conformance": {"enabled": True},
    "response_schema_conformance": {"enabled": True},
    "negative_data_rejection": {"enabled": True},
}


# The demo's rows, as a fresh database numbers them: its office, its live case, and that case's launch mailing.
DEMO = {"code": "GB", "case_id": 1, "mailing_id": 1}


def fuzz_config(*, parameters: dict, max_examples: int, coverage: bool = True) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "parameters": parameters,
            "generation": {"max-examples": max_examples, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": coverage}},
            "checks": {"enabled": False, **CHECKS},
            "operations": [
                # A bad row of a supporters list is rejected alone in a 200 answer, never with a 422: that is the call's contract.
                {
                    "include-operation-id": "api_supporters.add_supporters",
                    "checks": {"negative_data_rejection": {"enabled": False}},
                },
            ],
        }
    )


def served_description() -> dict:
    """What GET /api/v1/openapi.json answers; it needs no database, so it can be read while the tests are collected."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "description", "TESTING": True})
    return app.test_client().get("/api/v1/openapi.json").json


DESCRIPTION = served_description()
# Bodies and queries, on paths that name the demo's rows, so that they reach the rules behind the path.
in_demo = schemathesis.openapi.from_dict(DESCRIPTION, config=fuzz_config(parameters=DEMO, max_examples=MAX_EXAMPLES))
# Paths themselves: ids and codes of every shape.
WITH_PARAMETERS = {**DESCRIPTION, "paths": {path: calls for path, calls in DESCRIPTION["paths"].items() if "{" in path}}
any_path = schemathesis.openapi.from_dict(
    WITH_PARAMETERS, config=fuzz_config(parameters={}, max_examples=PATH_EXAMPLES, coverage=False)
)


@pytest.fixture(scope="module")
def demo_api(database_url, relay):
    """The app on real HTTP over the demo data, and an admin's token: one for the whole fuzz, as the demo takes seconds
    to load; what one call makes, the later calls meet."""
    app = create_app(conftest.test_config(database_url, relay))
    with app.app_context():
        redis_connection().flushdb()
        load_demo()
        assert db.session.get(Case, DEMO["case_id"]).status == "live" and db.session.get(Mailing, DEMO["mailing_id"])
        token = issue_token("admin@demo.example.org")
        db.session.remove()
    server = make_server("127.0.0.1", conftest.free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", {"Authorization": f"Bearer {token}"}
    server.shutdown()
    thread.join()
    with app.app_context():
        buffer_for(app).stop()
        db.session.remove()
        conftest._empty_tables()
        db.engine.dispose()


# One server over one demo database for all the inputs of a call, on purpose: later inputs meet what earlier ones made.
ONE_SERVER_PER_CALL = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, scope="module")
@in_demo.parametrize()
@ONE_SERVER_PER_CALL
def test_every_call_answers_any_body_or_query_with_json_it_describes(case, demo_api):
    base_url, token = demo_api
    case.call_and_validate(base_url=base_url, headers=token)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, scope="module")
@any_path.parametrize()
@ONE_SERVER_PER_CALL
def test_every_path_answers_any_id_or_code_with_json_it_describes(case, demo_api):
    base_url, token = demo_api
    case.call_and_validate(base_url=base_url, headers=token)
