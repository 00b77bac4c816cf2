"""From the email to a sent appeal on a phone: the act first, the letter whole in every way to send, then the thanks
with the office's count, a share link and the next case. Debian's chromium via Playwright."""

import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from pypdf import PdfReader

from mobilise.extensions import db
from mobilise.models import Event
from mobilise.sequences.dispatch import start_drive

from .builders import case_data, make_case, make_office, make_supporters, translated
from .conftest import SCREENSHOTS
from .test_pages_browser import action_path

SEED = Path(__file__).resolve().parents[1] / "mobilise" / "demo_data" / "ua-document.txt"
PHONE_SCREEN = 844  # the phone fixture's viewport height, in CSS pixels
TARGET_EMAIL = "presidencia@gob.example.org"


def seed_letter() -> str:
    """The seed UA's model letter: about 3,000 characters, too long for a mailto link."""
    text = SEED.read_text()
    start = text.index("Mr Nicolás Maduro,") + len("Mr Nicolás Maduro,")
    return text[start : text.index("Yours sincerely,")].strip()


def in_first_screen(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE_SCREEN


def email_case(**overrides):
    return make_case(target={**case_data()["target"], "email": TARGET_EMAIL}, **overrides)


def launch(case, office=None, supporters=1):
    office = office or make_office()
    make_supporters(office, supporters)
    start_drive(case, office, {"office": office.code})
    return office


def link_parts(href: str) -> tuple[str, str, dict]:
    parts = urlsplit(href)
    return parts.scheme, unquote(parts.path), parse_qs(parts.query)


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_the_act_is_in_the_first_screen_and_the_mail_app_gets_the_letter_in_the_targets_language(
    app, relay, run_jobs, live_server, page, flush
):
    launch(email_case(translations=translated("es")))
    run_jobs()
    page.goto(live_server + action_path(relay))

    send = page.get_by_role("link", name="Send by email")
    confirm = page.get_by_role("button", name="I sent my appeal")
    assert in_first_screen(page, send) and in_first_screen(page, confirm)
    print(
        f"first screen: send ends at {sum(send.bounding_box()[k] for k in ('y', 'height')):.0f} px, "
        f"confirm at {sum(confirm.bounding_box()[k] for k in ('y', 'height')):.0f} px of {PHONE_SCREEN}"
    )
    assert in_first_screen(page, page.locator(".people")) and in_first_screen(page, page.locator(".deadline .days"))
    assert not page.locator("#letter").is_visible()  # folded below, never between the reader and the button
    page.screenshot(path=SCREENSHOTS / "act-first-screen-phone.png")

    scheme, address, query = link_parts(send.get_attribute("href"))
    spanish = "Señor Presidente:\r\n\r\nPedimos la liberación inmediata de Eduardo Torres.\r\n\r\nAtentamente,"
    assert (scheme, address) == ("mailto", TARGET_EMAIL)
    assert query == {"subject": ["Cesen las detenciones y los ataques contra defensores"], "body": [spanish]}
    for name, host, to in (("Gmail", "mail.google.com", "to"), ("Outlook", "outlook.office.com", "to")):
        webmail = urlsplit(page.get_by_role("link", name=name, exact=True).get_attribute("href"))
        fields = parse_qs(webmail.query)
        assert webmail.hostname == host and fields[to] == [TARGET_EMAIL] and fields["body"] == [spanish]

    # Opening the mail app is a step, counted as a click; it is not an action.
    page.evaluate("document.getElementById('send-email').addEventListener('click', e => e.preventDefault())")
    with page.expect_response(re.compile(r"/steps/email$")) as step:
        send.click()
    assert (step.value.request.method, step.value.status) == ("POST", 204)
    flush()
    assert (
        db.session.scalar(db.select(db.func.count(Event.id)).where(Event.kind == "click")) == 2
    )  # the visit, the step

    confirm.click()
    thanks = page.get_by_role("status").filter(has_text="Thank you, Person0.")
    thanks.wait_for()
    assert "You are the first person from Amnesty UK to act on this case." in thanks.inner_text()
    page.screenshot(path=SCREENSHOTS / "act-thanks-phone.png", full_page=True)


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_a_letter_too_long_for_a_link_is_copied_before_the_mail_app_opens(app, relay, run_jobs, live_server, page):
    launch(email_case(model_letter=seed_letter()))
    run_jobs()
    page.goto(live_server + action_path(relay))

    send = page.get_by_role("link", name="Copy the letter and open your mail app")
    assert in_first_screen(page, send)
    scheme, address, query = link_parts(send.get_attribute("href"))
    assert (scheme, address, list(query)) == ("mailto", TARGET_EMAIL, ["subject"])  # no body: it would be cut
    with page.expect_response(re.compile(r"/steps/email$")):
        send.click()
    # The script copies, then opens the mail app (headless chromium has none, so the page stays).
    page.wait_for_function("navigator.clipboard.readText().then(text => text.length > 0)", polling=100)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Mr Nicolás Maduro,") and "Kennedy Tejada, detained on 2 August 2024." in copied
    assert copied.endswith("Yours sincerely,")
    # Gmail's and Outlook's compose pages take the whole letter where a mailto cannot.
    gmail = parse_qs(urlsplit(page.get_by_role("link", name="Gmail", exact=True).get_attribute("href")).query)
    assert gmail["body"] == [copied.replace("\n", "\r\n")]


@pytest.mark.parametrize("page", ["phone"], indirect=True)
@pytest.mark.parametrize("length", [1, 1.5], ids=["seed-letter", "half-as-long-again"])
def test_a_postal_target_gets_a_one_page_letter_with_the_address_in_the_envelope_window(
    app, relay, run_jobs, live_server, page, tmp_path, length
):
    letter = seed_letter()
    launch(
        make_case(
            model_letter=letter + "\n\n" + letter[: int(len(letter) * (length - 1))].rsplit(" ", 1)[0] + "."
            if length > 1
            else letter
        )
    )
    run_jobs()
    page.goto(live_server + action_path(relay))
    printing = page.get_by_role("link", name="Print the letter to post")
    assert in_first_screen(page, printing)
    assert page.get_by_role("link", name="Send by email").count() == 0  # the target has no email address
    printing.click()
    page.get_by_role("heading", name="Print the letter to post").wait_for()
    assert page.get_by_role("button", name="Print").is_visible()

    page.emulate_media(media="print")
    page.screenshot(path=SCREENSHOTS / "letter-print.png", full_page=True)
    millimetre = 96 / 25.4  # CSS pixels
    window = page.locator(".sheet-recipient").bounding_box()
    # DIN 5008 form B and DL windows: the address 45–90 mm from the top, 20–105 mm from the left.
    assert 45 <= window["y"] / millimetre and (window["y"] + window["height"]) / millimetre <= 92
    assert 20 <= window["x"] / millimetre and (window["x"] + window["width"]) / millimetre <= 110
    assert page.locator(".sheet-recipient").inner_text().splitlines()[:2] == [
        "Nicolás Maduro",
        "President of the Republic",
    ]
    pdf = tmp_path / "letter.pdf"
    page.pdf(path=pdf, format="A4", print_background=True)
    (SCREENSHOTS / "letter.pdf").write_bytes(pdf.read_bytes())
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Mr Nicolás Maduro," in text and "Yours sincerely," in text and "Urgent Action" not in text


def test_the_thanks_page_counts_the_office_and_leads_to_the_next_case(app, client, relay, run_jobs):
    office = launch(make_case(), supporters=3)
    later = make_case(title="Free the students", reference="UA 60/25")
    start_drive(later, office, {"office": "GB"})
    run_jobs()
    paths = {}
    for message in relay.messages():
        html = message.get_body(("html",)).get_content()
        paths.setdefault(message["To"], []).append(
            re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1)
        )
    first, second = paths["person0@gb.example.net"], paths["person1@gb.example.net"]

    client.post(first[0])
    page = client.post(second[0]).get_data(as_text=True)
    assert "You are one of 2 people from Amnesty UK who acted on this case." in page
    share = re.search(r'id="share-link" type="url" value="([^"]+)"', page).group(1)
    assert (
        share
        == "http://mobilise.test/cases/"
        + re.search(r"/cases/([^?\"]+)\?office=GB", page).group(1)
        + "?office=GB&amp;lang=en"
    )
    assert "https://wa.me/?text=" in page and "https://t.me/share/url?url=" in page
    # The next case is the other one, opened on the supporter's own action page (their email of it).
    next_link = re.search(r'<p class="next-case"><a class="button" href="([^"]+)"[^>]*>([^<]+)</a>', page)
    assert next_link.group(2) == "Free the students"
    assert next_link.group(1) in second  # the same supporter's action link for the other case
    # Acted on both: nothing left to offer, and the page says so.
    done = client.post(next_link.group(1)).get_data(as_text=True)
    assert "You have acted on every live case of Amnesty UK." in done
    assert "You are the first person from Amnesty UK to act on this case." in done


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_the_action_page_is_light_and_works_without_javascript(app, relay, run_jobs, live_server, browser, page):
    launch(email_case(model_letter=seed_letter()))
    run_jobs()
    path = action_path(relay)
    weights = []
    page.on("response", lambda response: weights.append(len(response.body())) if response.ok else None)
    page.goto(live_server + path)
    page.wait_for_load_state("networkidle")
    print(f"the action page, its CSS and its script: {sum(weights)} bytes")  # for the closing note (pytest -s)
    assert sum(weights) < 100_000, f"{sum(weights)} bytes for the action page, its CSS and its script"

    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844}, is_mobile=True)
    bare = context.new_page()
    bare.goto(live_server + path)
    bare.get_by_text("Read the whole letter").click()
    assert bare.locator("#letter").is_visible()
    assert (
        bare.get_by_role("link", name="Copy the letter and open your mail app")
        .get_attribute("href")
        .startswith("mailto:")
    )
    bare.get_by_role("button", name="I sent my appeal").click()
    bare.get_by_role("heading", name="Thank you, Person0.").wait_for()
    assert bare.locator("#share-link").input_value().endswith("?office=GB&lang=en")
    assert not bare.get_by_role("button", name="Share this case").is_visible()  # no share sheet without a script
    context.close()


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_a_high_risk_case_reports_no_step(app, relay, run_jobs, live_server, page):
    launch(email_case(high_risk=True))
    run_jobs()
    page.goto(live_server + action_path(relay))
    steps = []
    page.on("request", lambda request: steps.append(request.url) if "/steps/" in request.url else None)
    page.evaluate("document.getElementById('send-email').addEventListener('click', e => e.preventDefault())")
    page.get_by_role("link", name="Send by email").click()
    page.get_by_text("Read the whole letter").click()
    page.get_by_role("button", name="Copy the letter").click()
    page.get_by_text("Copied").wait_for()
    assert steps == []
    assert page.locator("[data-steps]").count() == 0


def test_the_public_case_page_gives_a_visitor_the_target_the_letter_and_the_ways_to_send(app, client):
    case = email_case(translations=translated("es"))
    launch(case)
    page = client.get(f"/cases/{case.slug}?office=GB").get_data(as_text=True)
    assert "Send your appeal to Nicolás Maduro" in page
    assert "Palacio de Miraflores\nCaracas, Venezuela" in page and TARGET_EMAIL in page
    letter = re.search(r'<div class="letter" id="letter" lang="es">([^<]+)</div>', page).group(1)
    assert letter.startswith("Señor Presidente:")  # the target's language, as on the action page
    mailto = re.search(r'id="send-email" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert link_parts(mailto)[1] == TARGET_EMAIL and "Pedimos la liberación" in link_parts(mailto)[2]["body"][0]
    assert f"/cases/{case.slug}/letter?office=GB&amp;lang=en" in page
    assert "data-steps" not in page  # a visitor has no email of ours: nothing to count a step against
    printed = client.get(f"/cases/{case.slug}/letter?office=GB&lang=en")
    assert printed.status_code == 200 and "Señor Presidente:" in printed.get_data(as_text=True)


def test_a_step_with_a_bad_token_or_way_is_a_404_that_records_nothing(client, relay, run_jobs, flush):
    launch(email_case())
    run_jobs()
    path = action_path(relay)
    assert client.post(path + "/steps/email").status_code == 204
    assert client.post(path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:] + "/steps/email").status_code == 404
    assert client.post(path + "/steps/fax").status_code == 404
    assert client.get(path + "/steps/email").status_code == 405  # a link scanner's GET counts nothing
    flush()
    assert db.session.scalar(db.select(db.func.count(Event.id))) == 1


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_without_javascript_no_copy_button_is_shown_that_would_do_nothing(
    app, relay, run_jobs, live_server, browser, page
):
    # A target with neither an email nor a postal address: copying the letter is the only way the page offers.
    launch(make_case(target={"name": "Nicolás Maduro", "title": "President of the Republic"}))
    run_jobs()
    path = action_path(relay)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844}, is_mobile=True)
    bare = context.new_page()
    bare.goto(live_server + path)
    bare.get_by_text("Read the whole letter").click()
    assert bare.locator("#letter").is_visible()  # the letter to select and copy by hand
    shown = [b.inner_text() for b in bare.get_by_role("button").all() if b.is_visible()]
    assert shown == ["I sent my appeal"], shown  # every copy button needs the script
    context.close()

    page.goto(live_server + path)
    first = page.locator("#copy-first")
    first.wait_for()
    assert in_first_screen(page, first)
    first.click()
    page.locator("#ways-status", has_text="Copied").wait_for()
