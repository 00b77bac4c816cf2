"""The API's OpenAPI 3.1 description: made from the models that validate, covering every route, and readable by staff."""

import schemathesis
from pydantic.json_schema import models_json_schema

from mobilise.api.openapi import REF
from mobilise.cases.service import CaseIn
from mobilise.sequences.service import LaunchIn
from mobilise.supporters.service import SupporterIn

from .builders import bearer, make_case, make_office, token_for
from .test_console import PASSWORD, sign_in


def description(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def test_the_description_needs_no_token_and_is_openapi_3_1(app, client):
    spec = description(client)
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearer"] == {
        **spec["components"]["securitySchemes"]["bearer"],
        "type": "http",
        "scheme": "bearer",
    }
    # schemathesis refuses a description that breaks the OpenAPI 3.1 schema; each call must come out as an operation.
    operations = [result.ok() for result in schemathesis.openapi.from_dict(spec).get_all_operations()]
    assert len(operations) == sum(len(calls) for calls in spec["paths"].values())


def test_every_api_route_is_described_and_nothing_else(app, client):
    spec = description(client)
    described = {(method.upper(), path) for path, calls in spec["paths"].items() for method in calls}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routes
    assert ("POST", "/api/v1/cases/{case_id}/launch") in described and (
        "GET",
        "/api/v1/offices/{code}/supporters",
    ) in described


def test_bodies_are_the_models_that_validate_them(app, client):
    spec = description(client)
    schemas = spec["components"]["schemas"]
    _, made = models_json_schema(
        [(CaseIn, "validation"), (LaunchIn, "validation"), (SupporterIn, "validation")], ref_template=REF
    )
    for model in (CaseIn, LaunchIn, SupporterIn):
        assert schemas[model.__name__] == made["$defs"][model.__name__]
    body = spec["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CaseIn"}
    assert set(schemas["CaseIn"]["required"]) == {"title", "target", "model_letter", "deadline"}
    launch = spec["paths"]["/api/v1/cases/{case_id}/launch"]["post"]
    assert launch["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LaunchIn"}
    assert launch["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DriveOut"
    }
    updates = schemas["CaseChange"]
    assert updates["discriminator"]["propertyName"] == "kind"
    assert {option["$ref"].rsplit("/", 1)[1] for option in updates["oneOf"]} == {"UpdateIn", "ExtensionIn", "ClosureIn"}


def test_queries_paths_errors_and_security_are_described(app, client):
    spec = description(client)
    listing = spec["paths"]["/api/v1/offices/{code}/supporters"]["get"]
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert parameters["code"]["in"] == "path" and parameters["code"]["required"]
    assert parameters["per_page"]["schema"]["maximum"] == 500 and parameters["page"]["schema"]["minimum"] == 1
    assert parameters["status"]["schema"]["enum"] == ["pending", "subscribed", "unsubscribed", "bounced", "complained"]
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for status in ("401", "403", "404", "422"):
        assert listing["responses"][status]["content"]["application/json"]["schema"] == error
    assert listing["security"] == [{"bearer": []}]
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    assert {"409", "413", "400"} <= set(spec["paths"]["/api/v1/offices"]["post"]["responses"])


def test_the_answers_match_what_the_routes_send(app, client):
    """A few real answers, checked against the description by schemathesis's own response check."""
    make_office()
    case = make_case()
    admin = bearer(token_for("admin@example.org", admin=True))
    schema = schemathesis.openapi.from_dict(description(client))
    for method, path, url in [
        ("GET", "/api/v1/cases/{case_id}", f"/api/v1/cases/{case.id}"),
        ("GET", "/api/v1/cases", "/api/v1/cases"),
        ("GET", "/api/v1/offices/{code}/supporters", "/api/v1/offices/GB/supporters"),
        ("GET", "/api/v1/cases/{case_id}/stats", f"/api/v1/cases/{case.id}/stats"),
    ]:
        response = client.get(url, headers=admin)
        assert response.status_code == 200
        schema[path][method].validate_response(response)
    missing = client.get("/api/v1/cases/2147483648", headers=admin)
    assert missing.status_code == 404 and missing.json["error"]
    schema["/api/v1/cases/{case_id}"]["GET"].validate_response(missing)


def test_the_api_page_shows_each_call_to_signed_in_staff(app, client):
    assert client.get("/console/api").status_code == 302
    make_office()
    token_for("staff@uk.example.org", office="GB")
    sign_in(client, "staff@uk.example.org")
    page = client.get("/console/api")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for call in (
        "POST /api/v1/cases/{case_id}/launch",
        "GET /api/v1/offices/{code}/supporters",
        "POST /api/v1/cases/import",
    ):
        assert call in text
    assert 'id="schema-CaseIn"' in text and "at most 500 characters" in text  # CaseIn.title's rule, in words
    assert 'href="/console/api"' in client.get("/").get_data(as_text=True)  # reachable from the console's menu
    assert PASSWORD not in text


def test_inputs_the_fuzzer_found_answer_a_clean_4xx(app, client):
    """Each of these answered 500 before the API parsed it with a model."""
    make_office()
    admin = bearer(token_for("admin@example.org", admin=True))
    answers = [
        client.post("/api/v1/cases/import", json={"text": 5}, headers=admin),
        client.get("/api/v1/offices/GB/supporters?page=99999999999999999", headers=admin),
        client.get("/api/v1/cases/99999999999999999999/stats", headers=admin),
        client.post("/api/v1/offices/G%00/supporters", json={"email": "a@example.org"}, headers=admin),
        client.post("/api/v1/offices/GB/supporters/export", json={"email": ["a@example.org"]}, headers=admin),
        client.post("/api/v1/cases/1/launch", json={"office": 5}, headers=admin),
    ]
    assert [answer.status_code for answer in answers] == [422, 422, 404, 404, 422, 404]
    assert all(set(answer.json) == {"error", "details"} for answer in answers)
    assert answers[0].json["details"] == [{"field": "text", "error": "Input should be a valid string"}]
    assert answers[1].json["details"][0]["field"] == "page"


def test_the_api_page_reads_on_a_phone(app, page, live_server):
    make_office()
    token_for("staff@uk.example.org", office="GB")
    page.goto(live_server + "/login")
    page.fill("input[name=email]", "staff@uk.example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("link", name="API").click()
    page.wait_for_url("**/console/api")
    assert page.get_by_role("heading", name="POST /api/v1/cases/{case_id}/launch").is_visible()
    page.get_by_role("link", name="POST /api/v1/cases/{case_id}/launch").click()
    assert page.url.endswith("#api_cases.launch_case")
    # Nothing wider than the screen: long paths wrap and tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
