"""Every stage's email opened in chromium on a phone (375 px) and a desktop (1024 px), light and dark, as a
reader would see it; the screenshots are saved in tests/screenshots/emails/ to be looked at.

The launch and the sign-up confirmation are the emails the relay received; the other stages are the staff's
preview of the same mailing (the same composer and renderer, without tracking)."""

import pytest

from mobilise.sending.preview import preview
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.lifecycle import apply_change

from .builders import make_case, make_office, make_supporters, translated
from .conftest import SCREENSHOTS

LOGO = "https://www.uk.example.org/email-logo.png"
STAGES = [
    "launch",
    "update",
    "extension",
    "reminder",
    "outcome:good_news",
    "outcome:no_further_action",
    "confirm",
    "visitor_action",
]
# Every stage in English and French; German's long words in the two emails everyone gets.
EMAILS = [(stage, language) for stage in STAGES for language in ("en", "fr")] + [("launch", "de"), ("confirm", "de")]
SHOTS = SCREENSHOTS / "emails"

# For each element that has text of its own: its colour against the first background behind it (WCAG's ratio).
CONTRAST = """(selector) => {
  const rgba = c => { const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = ({r, g, b}) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
                                      .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = el => { for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c.a > 0) return c; } return null; };
  const found = [];
  for (const el of document.querySelectorAll(selector)) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const fg = lum(rgba(getComputedStyle(el).color)), bg = lum(behind(el));
    found.push({text: el.textContent.trim().slice(0, 50), ratio: (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)});
  }
  return found;
}"""


@pytest.fixture(scope="session")
def logo_png(browser) -> bytes:
    """A logo to serve: drawn by the browser itself, 400×100 (2× the 200×50 the email gives it)."""
    page = browser.new_page(viewport={"width": 400, "height": 100})
    page.set_content(
        '<body style="margin:0"><div style="width:400px;height:100px;background:#fff;font:bold 44px Arial;'
        'line-height:100px"><span style="background:#ff0;padding:0 12px">AMNESTY</span> UK</div></body>'
    )
    png = page.screenshot()
    page.close()
    return png


def email_html(client, relay, run_jobs, stage: str, language: str) -> str:
    office = make_office(logo_url=LOGO)
    if stage == "confirm":
        assert client.post("/subscribe/GB", data={"email": "zoe@example.org", "language": language}).status_code == 202
        run_jobs()
        [message] = relay.messages()
        return message.get_body(("html",)).get_content()
    case = make_case(translations=translated("fr", "de"), people=["Eduardo Torres", "Rocío San Miguel"])
    if stage == "visitor_action":  # a visitor of the public case page, asked to confirm their action
        start_drive(case, office, {"office": "GB"})
        run_jobs()
        asked = client.post(f"/cases/{case.slug}/actions?office=GB&lang={language}", data={"email": "zoe@example.org"})
        assert asked.status_code == 202, asked.status_code
        run_jobs()
        [message] = relay.messages()
        return message.get_body(("html",)).get_content()
    if stage == "launch":
        make_supporters(office, 1, first_name="Zoë", language=language)
        start_drive(case, office, {"office": "GB"})
        run_jobs()
        [message] = relay.messages()
        return message.get_body(("html",)).get_content()
    stage, _, outcome = stage.partition(":")
    if outcome:
        apply_change(case, {"kind": "closed", "outcome": outcome})
    return preview(case, office, {"stage": stage, "language": language, "first_name": "Zoë"})["html"]


def opened(browser, html: str, png: bytes, width: int, scheme: str = "light"):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.route(LOGO, lambda route: route.fulfill(body=png, content_type="image/png"))
    page.set_content(html, wait_until="load")
    return context, page


def low_contrast(page) -> list[dict]:
    return [found for found in page.evaluate(CONTRAST, ".sheet *") if found["ratio"] < 4.5]


@pytest.mark.parametrize(("stage", "language"), EMAILS)
def test_the_email_reads_well_on_a_phone_and_a_desktop_light_and_dark(
    app, client, relay, run_jobs, browser, logo_png, stage, language
):
    html = email_html(client, relay, run_jobs, stage, language)
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = f"{stage.replace(':', '-')}-{language}"
    has_button = stage != "outcome:good_news" and stage != "outcome:no_further_action"

    for width, scheme in ((375, "light"), (1024, "light"), (375, "dark")):
        context, page = opened(browser, html, logo_png, width, scheme)
        try:
            page.screenshot(path=SHOTS / f"{name}-{width}-{scheme}.png", full_page=True)
            sheet = page.locator("table.sheet").bounding_box()
            if width == 375:
                assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
                assert sheet["width"] >= 374  # the column fills the phone
            else:
                assert sheet["width"] <= 600
                assert abs(sheet["x"] - (1024 - sheet["x"] - sheet["width"])) <= 1  # centred
            assert page.locator(".preheader").is_hidden()
            logo = page.locator("img.logo")
            assert logo.is_visible() and logo.get_attribute("alt") == "Amnesty UK"
            assert page.evaluate("document.querySelector('img.logo').naturalWidth") == 400  # loaded, not a broken image
            if has_button:
                button = page.locator("a.button")
                box = button.bounding_box()
                assert button.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= width
                [face] = page.evaluate(CONTRAST, "a.button")
                assert face["ratio"] >= 4.5, face
            else:
                assert page.locator("a.button").count() == 0
            # Every text, in light and in dark mode: no dark text left on a dark background, nor light on light.
            assert low_contrast(page) == [], f"{name} at {width} px, {scheme}"
        finally:
            context.close()
