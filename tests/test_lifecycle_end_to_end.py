"""A UA's whole life through the API, the `dispatch` command and the real worker, read at a real SMTP relay."""

import re
from datetime import date, timedelta

from .builders import bearer, case_data, make_office, token_for, translated
from .conftest import run_flask


def test_launch_update_reminder_extension_closure(app, client, relay, service_env):
    make_office()
    admin = token_for("admin@example.org", admin=True)
    gb = token_for("staff@uk.example.org", office="GB")
    client.post(
        "/api/v1/offices/GB/supporters",
        headers=bearer(gb),
        json=[
            {"email": "ada@example.net", "first_name": "Ada"},
            {"email": "bea@example.net", "first_name": "Bea", "language": "es"},
            {"email": "cyd@example.net", "first_name": "Cyd"},
        ],
    )
    case = client.post(
        "/api/v1/cases",
        headers=bearer(admin),
        json=case_data(
            deadline=(date.today() + timedelta(days=20)).isoformat(),
            translations=translated("es", title="Cesen las detenciones"),
        ),
    ).json
    url = f"/api/v1/cases/{case['id']}"

    def work():
        result = run_flask(service_env, "worker", "--burst")
        assert result.returncode == 0, result.stderr[-2000:]
        sent = {m["To"]: m for m in relay.messages()}
        relay.received.clear()
        return sent

    def stage_of(message):
        return message["Subject"].split(":")[0]

    # Launch: everyone, each in their language.
    assert client.post(f"{url}/launch", json={"office": "GB"}, headers=bearer(gb)).status_code == 201
    launch = work()
    assert sorted(launch) == ["ada@example.net", "bea@example.net", "cyd@example.net"]
    assert launch["bea@example.net"]["Subject"] == "Acción Urgente: Cesen las detenciones"
    assert launch["ada@example.net"]["Subject"] == "Urgent Action: Cease detentions and attacks on defenders"

    # Ada acts from her email.
    html = launch["ada@example.net"].get_body(("html",)).get_content()
    act = re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1)
    assert client.post(act).status_code == 200

    # An update goes to all, acted or not.
    client.post(
        f"{url}/updates",
        json={
            "kind": "update",
            "body": "Eduardo's family saw him.",
            "translations": {"es": {"body": "Su familia vio a Eduardo."}},
        },
        headers=bearer(admin),
    )
    update = work()
    assert sorted(update) == ["ada@example.net", "bea@example.net", "cyd@example.net"]
    assert stage_of(update["ada@example.net"]) == "News" and stage_of(update["bea@example.net"]) == "Novedades"

    # The 7-day reminder, when the scheduler's tick reaches its time: only those who have not acted.
    schedule = client.get(f"{url}/schedule", headers=bearer(gb)).json
    first_reminder = next(m for m in schedule if m["stage"] == "reminder")
    ticked = run_flask(service_env, "dispatch", "--at", first_reminder["send_at"])
    assert "queued 1" in ticked.stdout
    reminder = work()
    assert sorted(reminder) == ["bea@example.net", "cyd@example.net"]
    assert reminder["cyd@example.net"]["Subject"].startswith("7 days left:")
    assert reminder["bea@example.net"]["Subject"].startswith("Quedan 7 días:")

    # More time: an extension to those who have not acted, and the reminders planned again.
    new_deadline = (date.today() + timedelta(days=34)).isoformat()
    client.post(f"{url}/updates", json={"kind": "deadline_extended", "deadline": new_deadline}, headers=bearer(admin))
    extension = work()
    assert sorted(extension) == ["bea@example.net", "cyd@example.net"]
    assert stage_of(extension["cyd@example.net"]) == "More time to act"
    schedule = client.get(f"{url}/schedule", headers=bearer(gb)).json
    planned = [m for m in schedule if m["status"] == "planned"]
    assert [m["stage"] for m in planned] == ["reminder", "reminder"]
    assert all(m["send_at"] > first_reminder["send_at"] for m in planned)

    # Good news: thanks to those who acted; nothing planned goes out any more.
    client.post(
        f"{url}/updates",
        json={"kind": "closed", "outcome": "good_news", "body": "Eduardo Torres is free."},
        headers=bearer(admin),
    )
    outcome = work()
    assert sorted(outcome) == ["ada@example.net"]
    assert "Eduardo Torres is free." in outcome["ada@example.net"].get_body(("plain",)).get_content()
    late = run_flask(service_env, "dispatch", "--at", planned[-1]["send_at"])
    assert "queued 0" in late.stdout
    assert work() == {}
    statuses = [m["status"] for m in client.get(f"{url}/schedule", headers=bearer(gb)).json]
    assert statuses.count("planned") == 0 and statuses.count("cancelled") >= 3
    page = client.get(act).get_data(as_text=True)
    assert "Good news" in page and "I sent my appeal" not in page
