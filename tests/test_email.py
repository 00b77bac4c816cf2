"""The launch email as the relay received it: parts, headers, footer, links."""

import re

from mobilise.extensions import db
from mobilise.models import Delivery
from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters

BASE = "http://mobilise.test"
TOKEN = r"[A-Za-z0-9_.-]+"


def send_launch(run_jobs, **case_overrides):
    office = make_office()
    make_supporters(office, 1)
    case = make_case(**case_overrides)
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    return office, case


def test_headers_and_parts_as_in_the_contract(app, relay, run_jobs):
    office, case = send_launch(run_jobs)
    [envelope] = relay.received
    [message] = relay.messages()
    delivery = db.session.scalar(db.select(Delivery))

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"] == "Amnesty UK <ua@uk.example.org>"
    assert message["Reply-To"] == "help@uk.example.org"
    assert message["To"] == "person0@gb.example.net"
    assert message["Message-ID"] == f"<delivery.{delivery.id}@uk.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        rf"<{BASE}/unsubscribe/{TOKEN}>, <mailto:help@uk\.example\.org\?subject=unsubscribe%20{TOKEN}>",
        message["List-Unsubscribe"],
    )
    assert "Cease detentions" in message["Subject"]


def test_list_unsubscribe_is_plain_on_the_wire_however_long(app, relay, run_jobs):
    app.config["PUBLIC_BASE_URL"] = "https://urgent-actions.a-very-long-section-domain-name.example.org"
    send_launch(run_jobs)
    raw = relay.received[0].content.decode("ascii")
    header = re.search(r"^List-Unsubscribe: (.*?)\r\n(?! )", raw, re.M | re.S).group(1)
    assert "=?" not in header  # no RFC 2047 encoded-words, which providers ignore
    assert re.search(
        r"<https://urgent-actions\.a-very-long-section-domain-name\.example\.org/unsubscribe/[A-Za-z0-9_.-]+>", header
    )


def test_html_part_has_lang_inlined_css_pixel_and_footer(app, relay, run_jobs):
    office, case = send_launch(run_jobs)
    [message] = relay.messages()
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()

    assert '<html lang="en">' in html
    # CSS inlined: <style> keeps only what cannot be (the @media rules for phones and dark mode).
    assert 'style="' in html
    for style in re.findall(r"<style>(.*?)</style>", html, re.S):
        assert re.fullmatch(r"\s*(@media[^{]*\{(\s*[^{}]+\{[^{}]*\})*\s*\}\s*)+", style), style
    assert re.search(rf'<img src="{BASE}/o/{TOKEN}\.gif"', html)
    assert re.search(rf'href="{BASE}/act/{TOKEN}"', html)
    assert re.search(rf'href="{BASE}/unsubscribe/{TOKEN}"', html)
    assert re.search(rf'href="{BASE}/preferences/{TOKEN}"', html)
    assert re.search(rf"{BASE}/preferences/{TOKEN}", text)
    # Every other link is wrapped; the case page is among them.
    others = [u for u in re.findall(r'href="([^"]+)"', html) if not re.search("/(act|unsubscribe|preferences)/", u)]
    assert others and all(re.fullmatch(rf"{BASE}/c/{TOKEN}", u) for u in others)
    for part in (html, text):
        assert "Amnesty UK" in part and "London EC2A 3EA" in part
        assert "because you joined" in part
        assert "Hello Person0," in part
    assert "person0@gb.example.net" not in html.split("<body")[1].replace("mailto:", "")  # no address in links


def test_a_high_risk_case_has_no_pixel_no_wrapped_links_and_no_names_in_the_subject(app, relay, run_jobs):
    send_launch(run_jobs, high_risk=True, title="Free Eduardo Torres now")
    [message] = relay.messages()
    html = message.get_body(("html",)).get_content()
    assert "/o/" not in html and "/c/" not in html
    assert f'href="{BASE}/cases/' in html
    assert "Eduardo" not in message["Subject"]


def test_no_personal_data_in_any_link(app, relay, run_jobs):
    send_launch(run_jobs)
    [message] = relay.messages()
    html = message.get_body(("html",)).get_content()
    links = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert links
    for url in links:
        assert "person0" not in url.lower() and "Person0" not in url and "%40" not in url and "@" not in url
