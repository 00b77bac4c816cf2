"""The HTML of the emails as the relay received it: tables that Outlook's Word renderer holds, a hidden
preheader that inboxes show after the subject, the office's logo, links in the design's colours, dark mode.
How it looks in a browser is tests/test_email_rendering.py."""

import re
from datetime import date, timedelta
from html import unescape
from html.parser import HTMLParser

from babel.dates import format_date

from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters, translated

BASE = "http://mobilise.test"
LOGO = "https://www.uk.example.org/email-logo.png"
SPACERS = "\u200c\xa0"  # what follows the preheader, so that the body's first words stay out of the preview


class Elements(HTMLParser):
    """Every start tag of a document, with its attributes and the tags it sits in."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found, self.open = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs), [t for t, _ in self.open]))
        if tag not in ("meta", "img", "br", "link"):
            self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def all(self, tag, **attrs):
        return [a for t, a, _ in self.found if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def style_of(attrs) -> dict:
    return {
        k.strip(): v.strip() for k, _, v in (d.partition(":") for d in attrs.get("style", "").split(";")) if k.strip()
    }


def launch_html(relay, run_jobs, office=None, language=None, **case_overrides) -> str:
    office = make_office(**(office or {}))
    make_supporters(office, 1, **({"language": language} if language else {}))
    start_drive(make_case(**case_overrides), office, {"office": office.code})
    run_jobs()
    [message] = relay.messages()
    return message.get_body(("html",)).get_content()


def preheader(html: str) -> tuple[dict, str]:
    """The preheader's style and text; it must be the first thing in the body, or the preview shows what is."""
    match = re.search(r'<body[^>]*>\s*<div class="preheader" style="([^"]*)">(.*?)</div>', html, re.S)
    assert match, "no preheader first in the body"
    return style_of({"style": match.group(1)}), unescape(match.group(2))


def test_the_inbox_preview_reads_the_ask_not_the_greeting(app, relay, run_jobs):
    html = launch_html(relay, run_jobs, people=["Eduardo Torres", "Rocío San Miguel"])
    style, text = preheader(html)
    deadline = format_date(date.today() + timedelta(days=30), "long", locale="en_GB")
    assert text.rstrip(SPACERS) == f"2 people at risk: write to Nicolás Maduro by {deadline}."
    assert len(text) - len(text.rstrip(SPACERS)) >= 80
    # Hidden the ways clients honour: CSS, Outlook's mso-hide, no height to leak into.
    assert {"display": "none", "max-height": "0", "overflow": "hidden", "mso-hide": "all"}.items() <= style.items()
    assert "Person0" not in text and "http" not in text and "/" not in text.rstrip(SPACERS)[-12:]


def test_the_preheader_is_in_the_readers_language_and_names_no_one_at_risk(app, relay, run_jobs):
    html = launch_html(
        relay,
        run_jobs,
        language="es",
        high_risk=True,
        title="Liberen a Eduardo Torres",
        translations=translated("es", title="Liberen a Eduardo Torres"),
    )
    _, text = preheader(html)
    deadline = format_date(date.today() + timedelta(days=30), "long", locale="es_ES")
    assert text.rstrip(SPACERS) == f"1 persona en peligro: escribe a Nicolás Maduro antes del {deadline}."
    assert "Eduardo" not in text


def test_the_column_is_a_600px_table_that_outlook_holds_and_phones_shrink(app, relay, run_jobs):
    html = launch_html(relay, run_jobs)
    body = html.split("<body", 1)[1]
    # Word ignores max-width: an Outlook-only table of 600 px around the fluid one.
    assert re.search(
        r'<!--\[if mso\]><table role="presentation" align="center" width="600"[^>]*><tr><td><!\[endif\]-->', body
    )
    assert "<!--[if mso]></td></tr></table><![endif]-->" in body
    elements = Elements(body)
    assert all(table.get("role") == "presentation" for table in elements.all("table"))
    [sheet] = [a for a in elements.all("table") if "sheet" in a.get("class", "")]
    assert sheet["width"] == "100%" and style_of(sheet)["max-width"] == "600px"
    assert [a.get("class") for a in elements.all("div")] == ["preheader"]  # no layout left in divs


def test_the_button_is_a_coloured_cell_with_the_link_inside(app, relay, run_jobs):
    html = launch_html(relay, run_jobs)
    [(_, link, around)] = [found for found in Elements(html).found if found[0] == "a" and "/act/" in found[1]["href"]]
    assert around[-1] == "td" and "button" in link["class"]
    [cell] = Elements(html).all("td", **{"class": "button-cell"})
    assert cell["bgcolor"] == "#000000" and style_of(cell)["mso-padding-alt"]  # Outlook pads the cell, not the link
    assert style_of(link)["color"] == "#ffffff" and style_of(link)["padding"]


def test_links_wear_the_design_colours_never_the_default_blue(app, relay, run_jobs):
    html = launch_html(relay, run_jobs)
    links = Elements(html).all("a")
    assert len(links) == 4  # the button, the case, preferences, unsubscribe
    for link in links:
        colour = style_of(link).get("color")
        assert colour and colour.lower() not in ("blue", "#00e", "#0000ee"), link
    [case_link] = [a for a in links if a.get("class") == "link"]
    assert style_of(case_link)["color"] == "#000000" and style_of(case_link)["text-decoration"] == "underline"


def test_dark_mode_is_declared_and_every_text_colour_has_a_dark_one(app, relay, run_jobs):
    html = launch_html(relay, run_jobs)
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    dark = re.search(r"@media \(prefers-color-scheme:dark\)\{(.*?)\}\}", html, re.S).group(1) + "}"
    declared = {}
    for selectors, rules in re.findall(r"([^{}]+)\{([^}]*)\}", dark):
        for selector in selectors.split(","):
            declared[selector] = declared.get(selector, "") + rules
    for selector in (".main", "h1", ".meta", "a", ".link", ".button", ".footer", ".footer-link"):
        assert re.search(r"(^|;)color:", declared.get(selector, "")), selector


def test_the_offices_logo_heads_the_email_and_none_is_drawn_without_one(app, relay, run_jobs):
    html = launch_html(relay, run_jobs, office={"logo_url": LOGO})
    images = Elements(html).all("img")
    [logo] = [img for img in images if img["src"] == LOGO]
    assert logo["alt"] == "Amnesty UK" and logo["width"] == "200" and logo["height"] == "50"
    assert html.index(LOGO) < html.index('class="band"')  # at the top, above the band


def test_a_high_risk_cases_email_loads_no_image_at_all_not_even_the_logo(app, relay, run_jobs):
    # A remote image is fetched when the email is read: the logo's server would learn who opened it, and when.
    html = launch_html(relay, run_jobs, office={"logo_url": LOGO}, high_risk=True)
    assert Elements(html).all("img") == []
    assert "Amnesty UK" in html  # the office is still named, in the band and the footer


def test_an_office_without_a_logo_draws_no_image_but_the_pixel(app, relay, run_jobs):
    html = launch_html(relay, run_jobs)
    assert [img["src"].rsplit("/", 1)[0] for img in Elements(html).all("img")] == [f"{BASE}/o"]


def test_the_visitors_confirmation_has_its_preheader_and_a_button_outlook_draws(app, client, relay, run_jobs):
    office = make_office()
    case = make_case(translations=translated("es"))
    start_drive(case, office, {"office": office.code})
    run_jobs()
    relay.received.clear()
    client.post(
        f"/cases/{case.slug}/actions?office=GB&lang=es",
        data={"email": "visitante@example.org"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    run_jobs()
    [message] = relay.messages()
    html = message.get_body(("html",)).get_content()
    _, text = preheader(html)
    assert text.rstrip(SPACERS) == "Un clic confirma tu acción y la hace contar para Amnesty UK."
    [(_, link, around)] = [
        found for found in Elements(html).found if found[0] == "a" and "/actions/" in found[1]["href"]
    ]
    assert around[-1] == "td" and "button" in link["class"]
    [cell] = Elements(html).all("td", **{"class": "button-cell"})
    assert cell["bgcolor"] == "#000000" and style_of(cell)["mso-padding-alt"]
