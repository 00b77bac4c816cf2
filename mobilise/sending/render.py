"""The one email renderer: a stage, a language and a context become subject, text and HTML.

Rendering runs in two steps so a batch of 500 costs one template render and one CSS
inlining per language, not per person: `render()` fills everything shared by the mailing
and leaves placeholders for what differs per recipient; `personalise()` fills those with
plain string substitution.

A placeholder is its name between two private-use characters, after a key drawn at random
by each process: the text of a case, an office or a supporter cannot hold one, by accident
or on purpose (the key is never written out: every placeholder is replaced before an email
or a preview leaves the process), so whatever it holds appears as its text. Values are
substituted once, never searched again, so a first name cannot be read as a placeholder either.
"""

import re
import secrets
from dataclasses import dataclass
from html import escape

import css_inline
from flask import render_template
from flask_babel import force_locale

from ..languages import locale_for
from .preheader import preheader_for

_KEY, _END = f"\ue000{secrets.token_hex(8)}:", "\ue001"
PLACEHOLDER = re.compile(_KEY + r"([a-z_]+(?::\d+)?)" + _END)
# The rules that cannot be inlined (@media: phones, dark mode) stay in a <style> of their own; the rest is
# written into style attributes, since some clients (Gmail among them) drop or ignore what is in <style>.
_inliner = css_inline.CSSInliner(
    keep_style_tags=False, keep_at_rules=True, minify_css=True, load_remote_stylesheets=False
)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_CSS_GAPS = re.compile(r"\s*([{};:,])\s*|\s+")


def _compact_styles(html: str) -> str:
    """The <style> left after inlining without its white space: every email carries it (minify_css only
    minifies what it inlines)."""
    return _STYLE.sub(
        lambda m: "<style>" + _CSS_GAPS.sub(lambda g: g.group(1) or " ", m.group(1)).strip() + "</style>", html
    )


_SPACES_AND_CONTROLS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def _one_line(text: str) -> str:
    """`text` for a header: every run of white space or control characters (a line break among them) one space."""
    return _SPACES_AND_CONTROLS.sub(" ", text)


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    text: str
    html: str


def placeholder(name: str) -> str:
    return f"{_KEY}{name}{_END}"


def render(stage: str, language: str, context: dict) -> Rendered:
    """`context["office"]` gives the country the dates and numbers are written for."""
    folder = f"emails/{stage}/{language}"
    context = dict(context, language=language, stage=stage)
    # The shared wording (footer, buttons) through the gettext catalogs, dates as the office's country writes them.
    with force_locale(locale_for(language, context["office"].code)):
        context.setdefault("preheader", preheader_for(stage, context))
        subject = render_template(f"{folder}/subject.txt", **context)
        text = render_template(f"{folder}/body.txt", **context)
        html = _compact_styles(_inliner.inline(render_template(f"{folder}/body.html", **context)))
    return Rendered(language, _one_line(subject).strip(), text.strip() + "\n", html)


def personalise(rendered: Rendered, values: dict[str, str]) -> tuple[str, str, str]:
    """Subject, text and HTML for one recipient; values are HTML-escaped in the HTML part only."""

    def plain(match):
        return values[match.group(1)]

    def html(match):
        return escape(values[match.group(1)], quote=True)

    return (
        personal_subject(rendered, values),
        PLACEHOLDER.sub(plain, rendered.text),
        PLACEHOLDER.sub(html, rendered.html),
    )


def personal_subject(rendered: Rendered, values: dict[str, str]) -> str:
    """The subject for one recipient: on one line whatever the values hold, as the shared part is."""
    if _END not in rendered.subject:  # no subject of today's templates has a placeholder
        return rendered.subject
    return PLACEHOLDER.sub(lambda match: _one_line(values[match.group(1)]), rendered.subject)
