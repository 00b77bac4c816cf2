"""Stats per case and office: what staff see, each office only its own part."""

import re

from mobilise.sequences.dispatch import start_drive

from .builders import bearer, make_case, make_office, make_supporters, token_for

PHONE = "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140 Mobile Safari/537.36"


def links_for(relay, address):
    message = next(m for m in relay.messages() if m["To"] == address)
    html = message.get_body(("html",)).get_content()
    return {
        "open": re.search(r'src="http://mobilise\.test(/o/[^"]+)"', html).group(1),
        "act": re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1),
        "unsubscribe": re.search(r'href="http://mobilise\.test(/unsubscribe/[^"]+)"', html).group(1),
        "click": re.search(r'href="http://mobilise\.test(/c/[^"]+)"', html).group(1),
    }


def test_counts_follow_what_supporters_do(app, client, relay, run_jobs, flush):
    gb = make_office()
    es = make_office(code="ES", name="España", language="es", timezone="Europe/Madrid", sender="a@es.example.org")
    make_supporters(gb, 4)
    make_supporters(es, 2)
    case = make_case()
    start_drive(case, gb, {"office": "GB"})
    start_drive(case, es, {"office": "ES"})
    run_jobs()

    p0, p1, p2, p3 = (links_for(relay, f"person{n}@gb.example.net") for n in range(4))
    # People read an hour later; a link scanner clicks person3's email the moment it arrives.
    from datetime import timedelta

    from mobilise.extensions import db
    from mobilise.models import Delivery, Supporter

    scanned = db.session.scalar(db.select(Supporter.id).where(Supporter.email == "person3@gb.example.net"))
    for delivery in db.session.scalars(db.select(Delivery).where(Delivery.supporter_id != scanned)):
        delivery.sent_at -= timedelta(hours=1)
    db.session.commit()
    client.get(p3["click"], headers={"User-Agent": PHONE})
    client.get(p0["open"], headers={"User-Agent": PHONE})
    client.get(p0["open"], headers={"User-Agent": PHONE})  # the same person twice counts once
    client.get(p1["open"], headers={"User-Agent": "Mozilla/5.0"})  # a privacy proxy prefetch
    client.get(p0["act"], headers={"User-Agent": PHONE})  # opening the action page: a click, not an action
    client.post(p0["act"])
    client.post(p2["unsubscribe"])
    es0 = links_for(relay, "person0@es.example.net")
    client.post(es0["act"])
    flush()

    admin = token_for("admin@example.org", admin=True)
    stats = client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(admin)).json
    assert stats["offices"]["GB"] == {
        "recipients": 4,
        "sent": 4,
        "failed": 0,
        "bounced": 0,
        "opened": 2,
        "opened_human": 1,
        "clicked": 1,
        "acted": 1,
        "unsubscribed": 1,
    }
    assert stats["offices"]["ES"]["acted"] == 1 and stats["offices"]["ES"]["recipients"] == 2
    assert stats["totals"]["recipients"] == 6 and stats["totals"]["acted"] == 2
    assert stats["days_left"] == 30 and stats["deadline"] == case.deadline.isoformat()
    launches = [m for m in stats["mailings"] if m["stage"] == "launch"]
    assert sorted((m["office"], m["recipients"], m["acted"]) for m in launches) == [("ES", 2, 1), ("GB", 4, 1)]
    assert sum(day["actions"] for day in stats["actions_by_day"]) == 2
    assert {day["office"] for day in stats["actions_by_day"]} == {"GB", "ES"}

    staff = token_for("staff@uk.example.org", office="GB")
    mine = client.get(f"/api/v1/cases/{case.id}/stats", headers=bearer(staff)).json
    assert list(mine["offices"]) == ["GB"]
    assert mine["totals"] == stats["offices"]["GB"]
    assert {m["office"] for m in mine["mailings"]} == {"GB"}
    assert {d["office"] for d in mine["actions_by_day"]} == {"GB"}
    schedule = client.get(f"/api/v1/cases/{case.id}/schedule", headers=bearer(staff)).json
    assert {m["office"] for m in schedule} == {"GB"}
