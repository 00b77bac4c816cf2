"""The letter a supporter sends to the target: salutation, model letter and closing, all in one language.

The action page, its copy button, the mailto link and the downloaded UA all take the letter from here, so the
letter someone reads is the letter they send.
"""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask_babel import force_locale, gettext

from ..languages import UI_LANGUAGES
from .models import Case

# A salutation typed with its own punctuation ("Dear Minister,", "Señor Presidente:") keeps it.
_PUNCTUATED = (",", ":", ";", ".", "!")

# Past about this many characters some mail apps and browsers cut a mailto: link or refuse it.
MAILTO_LIMIT = 1800


@dataclass(frozen=True)
class Letter:
    language: str
    salutation: str  # with the language's punctuation; "" when the case names none
    paragraphs: tuple[str, ...]
    closing: str

    @property
    def text(self) -> str:
        return "\n\n".join(part for part in (self.salutation, *self.paragraphs, self.closing) if part)


def compose_letter(content: dict) -> Letter:
    """The letter in the language of `content` (a Case.content): its salutation punctuated, its closing worded,
    as that language writes a letter ("Mr Nicolás Maduro," … "Yours sincerely,"; "Señor Presidente:" … "Atentamente,")."""
    salutation = (content["target_salutation"] or "").strip()
    paragraphs = tuple(p.strip() for p in (content["model_letter"] or "").split("\n\n") if p.strip())
    if content["language"] not in UI_LANGUAGES:
        # A language our catalogs do not write (a letter to a Russian ministry): its translator's words only,
        # never an English closing under a Russian letter.
        return Letter(content["language"], salutation, paragraphs, "")
    with force_locale(content["language"]):
        if salutation and not salutation.endswith(_PUNCTUATED):
            # Translators: the salutation heading a letter; Spanish writes "%(salutation)s:".
            salutation = gettext("%(salutation)s,", salutation=salutation)
        # Translators: the standard closing of a formal letter, before the sender's name.
        closing = gettext("Yours sincerely,")
    if paragraphs and paragraphs[-1] == closing:  # a model letter typed with its closing is not closed twice
        closing = ""
    return Letter(content["language"], salutation, paragraphs, closing)


def sending_language(case: Case, reading: str) -> str:
    """The language the letter goes to the target in: the target's own when the case reads whole in it (in any
    language: a letter to Moscow in Russian), else the reader's."""
    target = case.target_language
    return target if target in case.languages() else reading


def letters(case: Case, reading: str) -> tuple[Letter, Letter | None]:
    """The letter to send, and the reader's own version to read when the one to send is in another language."""
    own = compose_letter(case.content(reading))
    language = sending_language(case, own.language)
    if language == own.language:
        return own, None
    return compose_letter(case.content(language)), own


@dataclass(frozen=True)
class Mailto:
    href: str
    with_letter: bool  # False: too long for a link, the supporter pastes the letter in themselves


def mailto(address: str, subject: str, letter: Letter) -> Mailto:
    """A mailto: link (RFC 6068) to `address` with `subject` and the letter as its body, every character of
    those percent-encoded (a space %20, a line break %0D%0A); past MAILTO_LIMIT, the address and subject only."""
    head = f"mailto:{quote(address, safe='@')}?subject={quote(subject, safe='')}"
    full = f"{head}&body={quote(_crlf(letter), safe='')}"
    return Mailto(full, True) if len(full) <= MAILTO_LIMIT else Mailto(head, False)


def mailto_for(case: Case, letter: Letter) -> Mailto | None:
    """The link to email the letter to the target, the case's title in the letter's language as its subject."""
    if not case.target_email:
        return None
    return mailto(case.target_email, case.content(letter.language)["title"], letter)


# Webmail compose pages take the letter in their URL too, each up to what its servers are known to take whole:
# Gmail's several thousand characters, Outlook on the web's about 2,000 (past that, the supporter pastes the letter).
WEBMAIL = {
    # Gmail's compose view; `fs=1` opens it full screen, as a phone needs.
    "gmail": ("https://mail.google.com/mail/", {"view": "cm", "fs": "1"}, ("to", "su", "body"), 7000),
    # Outlook on the web's deep link, for Outlook.com and Microsoft 365 accounts alike.
    "outlook": ("https://outlook.office.com/mail/deeplink/compose", {}, ("to", "subject", "body"), MAILTO_LIMIT),
}


@dataclass(frozen=True)
class Compose:
    """The ways to email the letter to the target from this page: the mail app, Gmail, Outlook."""

    mailto: Mailto
    webmail: dict[str, Mailto]  # "gmail" / "outlook" → its compose link (with_letter False: paste the letter)

    @property
    def with_letter(self) -> bool:
        return self.mailto.with_letter


def _crlf(letter: Letter) -> str:
    return "\r\n".join(letter.text.splitlines())


def webmail(way: str, address: str, subject: str, letter: Letter) -> Mailto:
    base, fixed, (to, subject_key, body_key), limit = WEBMAIL[way]
    # Every space as %20, never "+": Outlook shows a "+" literally once its sign-in has re-encoded the link.
    head = f"{base}?{urlencode({**fixed, to: address, subject_key: subject}, quote_via=quote)}"
    full = f"{head}&{body_key}={quote(_crlf(letter), safe='')}"
    return Mailto(full, True) if len(full) <= limit else Mailto(head, False)


def compose_for(case: Case, letter: Letter) -> Compose | None:
    """Every way to email the letter to the target, or None when the case gives the target no address to email."""
    link = mailto_for(case, letter)
    if link is None:
        return None
    subject = case.content(letter.language)["title"]
    return Compose(link, {way: webmail(way, case.target_email, subject, letter) for way in WEBMAIL})
