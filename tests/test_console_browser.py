"""The console in a real browser: sign in, launch, watch an action come in, export the counts."""

import re

from .builders import make_case, make_office, make_supporters, token_for
from .conftest import SCREENSHOTS


def test_sign_in_launch_watch_an_action_arrive_and_export(app, relay, run_jobs, live_server, page, flush):
    if page.device == "phone":
        page.set_viewport_size({"width": 414, "height": 896})
    office = make_office()
    make_supporters(office, 4)
    case = make_case()
    token_for("staff@uk.example.org", office="GB")
    SCREENSHOTS.mkdir(exist_ok=True)

    page.goto(live_server + "/")
    assert page.url.endswith("/login?next=%2F")
    page.get_by_label("Email").fill("staff@uk.example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Cases")).wait_for()
    page.screenshot(path=SCREENSHOTS / f"console-home-{page.device}.png", full_page=True)

    page.get_by_role("link", name=case.title).click()
    page.get_by_role("link", name="Launch for GB").click()
    page.get_by_role("button", name="See the email and who gets it").click()
    page.get_by_role("heading", name=re.compile("to 4 subscribed supporters")).wait_for()
    page.screenshot(path=SCREENSHOTS / f"console-launch-confirm-{page.device}.png", full_page=True)
    page.get_by_role("button", name="Yes, send it to 4 supporters").click()
    page.get_by_text("Launched for GB").wait_for()

    run_jobs()
    html = relay.messages()[0].get_body(("html",)).get_content()
    act = re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1)
    supporter = page.context.new_page()
    supporter.goto(live_server + act)
    supporter.get_by_role("button", name="I sent my appeal").click()
    supporter.get_by_text("Your appeal is counted").wait_for()
    supporter.close()

    page.reload()
    acted = page.locator(".funnel li.acted .n")
    assert acted.inner_text() == "1"
    assert page.locator(".funnel li").first.locator(".n").inner_text() == "4"
    page.screenshot(path=SCREENSHOTS / f"console-case-{page.device}.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export counts (CSV)").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        content = exported.read().splitlines()
    assert content[1].startswith("total,,,,,,4,4") and content[1].split(",")[-2] == "1"  # acted
