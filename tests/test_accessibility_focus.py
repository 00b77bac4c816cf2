"""Focus visible everywhere: tabbing through a page, every focused element shows an outline at 3:1 or more against
the background it sits on (WCAG 2.2, 1.4.11 and 2.4.13), read from the browser's computed styles."""

import pytest

from mobilise.sequences.dispatch import start_drive

from .builders import make_case, make_office, make_supporters, token_for
from .test_accessibility import World, sign_in
from .test_pages_browser import action_path

MINIMUM = 3.0
MOST_TABS = 80

# The focused element, its outline, and the first opaque background behind the outline: the outline is drawn
# outside the element (outline-offset), so it sits on its parent's background, not on its own.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgba = (css) => {
    const parts = css.match(/rgba?\\(([^)]*)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  let background = [255, 255, 255, 1];
  for (let node = el.parentElement; node; node = node.parentElement) {
    const colour = rgba(getComputedStyle(node).backgroundColor);
    if (colour[3] > 0) { background = colour; break; }
  }
  const style = getComputedStyle(el);
  const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || el.id || '').trim();
  return {element: el.tagName.toLowerCase() + ' "' + name.slice(0, 40) + '"', key: el.outerHTML.slice(0, 200),
          style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          outline: rgba(style.outlineColor), background: background};
}"""


def luminance(rgb) -> float:
    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one, other) -> float:
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_is_wcags():
    assert round(contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(contrast((11, 87, 164), (17, 17, 17)), 1) == 2.6  # the console's old ring on its black header


def tab_through(page) -> list[str]:
    """Tab from the top of the page until focus comes round again; each focus ring below 3:1 (or none), described."""
    page.locator("body").focus()
    seen, weak = set(), []
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or focused["key"] in seen:
            break
        seen.add(focused["key"])
        ratio = contrast(focused["outline"], focused["background"])
        if focused["style"] == "none" or focused["width"] < 2 or ratio < MINIMUM:
            weak.append(
                f"{focused['element']}: outline {focused['style']} {focused['width']}px "
                f"rgb{tuple(focused['outline'][:3])} on rgb{tuple(focused['background'][:3])} = {ratio:.2f}:1"
            )
    assert len(seen) >= 2, f"tabbing reached only {len(seen)} elements on {page.url}"
    return weak


@pytest.mark.parametrize("page", ["desktop"], indirect=True)  # a keyboard's focus: a phone has none to tab
def test_every_focus_ring_stands_out_at_3_to_1_on_the_console_and_the_public_pages(
    app, relay, run_jobs, live_server, page
):
    office = make_office()
    make_supporters(office, 1)
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()
    token_for("admin@example.org", admin=True)
    weak = {}
    page.goto(live_server + action_path(relay))
    weak["action page"] = tab_through(page)
    page.goto(f"{live_server}/cases/{case.slug}?office=GB")
    weak["public case page"] = tab_through(page)
    page.goto(f"{live_server}/nowhere?office=GB")
    weak["404 page"] = tab_through(page)
    sign_in(page, World(base=live_server))
    weak["console home"] = tab_through(page)
    page.goto(f"{live_server}/console/cases/{case.id}")
    weak["console case page"] = tab_through(page)
    report = [f"{where}: {line}" for where, lines in weak.items() for line in lines]
    assert not report, "focus rings under 3:1:\n" + "\n".join(report)
