"""A staff member's whole day, with the service's real worker process and a real SMTP relay."""

import re

from .builders import bearer, case_data
from .conftest import run_flask

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"


def cli(runner, *args):
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_office_launches_a_ua_and_its_supporters_act(app, client, runner, relay, service_env):
    cli(
        runner,
        "office",
        "create",
        "GB",
        "--name",
        "Amnesty UK",
        "--language",
        "en",
        "--timezone",
        "Europe/London",
        "--sender",
        "ua@uk.example.org",
        "--reply-to",
        "help@uk.example.org",
        "--address",
        "17-25 New Inn Yard, London",
    )
    cli(
        runner,
        "office",
        "create",
        "ES",
        "--name",
        "Amnistía España",
        "--language",
        "es",
        "--timezone",
        "Europe/Madrid",
        "--sender",
        "ua@es.example.org",
    )
    cli(runner, "staff", "create", "admin@example.org", "--admin", "--password", "s3cret-enough")
    cli(runner, "staff", "create", "staff@uk.example.org", "--office", "GB")
    cli(runner, "staff", "create", "staff@es.example.org", "--office", "ES")
    admin = cli(runner, "staff", "token", "admin@example.org").strip().splitlines()[-1]
    gb = cli(runner, "staff", "token", "staff@uk.example.org").strip().splitlines()[-1]
    es = cli(runner, "staff", "token", "staff@es.example.org").strip().splitlines()[-1]

    people = [{"email": f"Supporter{n}@Example.net", "first_name": f"S{n}"} for n in range(12)]
    added = client.post("/api/v1/offices/GB/supporters", json=people, headers=bearer(gb)).json
    assert added == {"created": 12, "updated": 0, "rejected": []}
    client.post("/api/v1/offices/ES/supporters", json=[{"email": "otra@example.net"}], headers=bearer(es))
    case = client.post("/api/v1/cases", json=case_data(), headers=bearer(admin)).json
    launched = client.post(f"/api/v1/cases/{case['id']}/launch", json={"office": "GB"}, headers=bearer(gb))
    assert launched.status_code == 201

    # Someone leaves the list after the launch was queued: the worker must not mail them.
    unsubscribe_later = client.get("/api/v1/offices/GB/supporters?q=supporter11", headers=bearer(gb)).json["items"][0]
    from mobilise.extensions import db
    from mobilise.models import Supporter

    db.session.get(Supporter, unsubscribe_later["id"]).status = "unsubscribed"
    db.session.commit()

    worker = run_flask(service_env, "worker", "--burst")
    assert worker.returncode == 0, worker.stderr[-3000:]

    expected = sorted(f"supporter{n}@example.net" for n in range(11))
    assert relay.recipients() == expected  # exactly the subscribed ones, each once, not Spain's
    messages = relay.messages()
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<http://mobilise.test/unsubscribe/")
        assert message["From"] == "Amnesty UK <ua@uk.example.org>"
    assert len({m["Message-ID"] for m in messages}) == 11
    assert "Supporter" not in worker.stderr and "supporter0" not in worker.stderr  # no personal data in logs

    html = next(m for m in messages if m["To"] == "supporter0@example.net").get_body(("html",)).get_content()
    pixel = re.search(r'src="http://mobilise\.test(/o/[^"]+)"', html).group(1)
    act = re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1)

    def stats(token=gb):
        return client.get(f"/api/v1/cases/{case['id']}/stats", headers=bearer(token)).json

    before = stats()["offices"]["GB"]
    assert (before["recipients"], before["sent"], before["opened"], before["acted"]) == (11, 11, 0, 0)
    assert client.get(pixel, headers={"User-Agent": PHONE}).status_code == 200
    assert client.get(act, headers={"User-Agent": PHONE}).status_code == 200
    assert stats()["offices"]["GB"]["acted"] == 0  # a GET is never an action
    assert client.post(act).status_code == 200
    # The open waits in Redis; a burst worker writes it before it exits.
    assert stats()["offices"]["GB"]["opened"] == 0
    assert run_flask(service_env, "worker", "--burst").returncode == 0
    after = stats()["offices"]["GB"]
    assert (after["opened"], after["opened_human"], after["acted"]) == (1, 1, 1)

    token = act.rsplit("/", 1)[1]
    forged = act.replace(token, token[:-2] + ("xx" if not token.endswith("xx") else "yy"))
    assert client.post(forged).status_code == 404
    assert stats()["offices"]["GB"] == after

    assert client.get("/api/v1/offices/GB/supporters", headers=bearer(es)).status_code == 404
    assert stats(es)["offices"] == {}
    assert stats(es)["totals"]["acted"] == 0
