"""Builds each recipient's message for one mailing: context once, render once per language."""

from email.utils import formataddr
from urllib.parse import quote

from flask import current_app
from flask_babel import lazy_gettext, lazy_ngettext
from sqlalchemy.exc import IntegrityError

from ..clock import days_left, utcnow
from ..extensions import db
from ..languages import reading_language
from ..sequences.models import Mailing
from ..tokens import make_token
from .dkim import signer_for
from .message import BROKEN, OutgoingEmail, SplicedEmail, unsendable
from .models import MailingLink
from .provider_tags import provider_headers
from .render import PLACEHOLDER, Rendered, personal_subject, personalise, placeholder, render
from .wire import Skeleton, idna_address


def link_id_for(mailing_id: int, url: str) -> int:
    """The id of `url` among the mailing's links, added once even when batches race."""
    query = db.select(MailingLink.id).where(MailingLink.mailing_id == mailing_id, MailingLink.url == url)
    if (found := db.session.scalar(query)) is not None:
        return found
    try:
        with db.session.begin_nested():
            link = MailingLink(mailing_id=mailing_id, url=url)
            db.session.add(link)
        db.session.commit()
        return link.id
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(query)


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + path


class Composer:
    """`preview=True` composes a mailing that is not saved (a preview, a test email): nothing is tracked."""

    def __init__(self, mailing: Mailing, *, preview: bool = False):
        self.mailing = mailing
        self.preview = preview
        self.drive = mailing.drive
        self.case = self.drive.case
        self.office = self.drive.office
        self.tracked = not (self.case.high_risk or preview)
        self.case_language = self.case.language
        # What the email can be read in whole: the case's text, and the staff's own words if it has any.
        self.content_languages = mailing.readable_in(self.case.languages(), self.case_language)
        self._rendered: dict[str, tuple[Rendered, list[tuple[str, int]]]] = {}
        self._skeleton: dict[str, tuple[Skeleton, Skeleton]] = {}
        self._reads: dict[str | None, str] = {}  # a supporter's language → the one they read this email in
        # Plain values, read once: ORM attributes reload after every commit of the batch's progress.
        # An office's addresses are checked and IDNA-encoded when it is made; these are for older rows.
        sender_email = idna_address(self.office.sender_email)
        self.reply_to = self.office.reply_to and idna_address(self.office.reply_to)
        self.sender = formataddr((self.office.sender_name or self.office.name, sender_email))
        self.domain = sender_email.rsplit("@", 1)[1]
        # RFC 6068: what a mailto: address cannot hold as it is, percent-encoded (a "," would split List-Unsubscribe).
        self.mailto = quote(self.reply_to or sender_email, safe="@!$'*+")
        self.inbound_domain = current_app.config["INBOUND_DOMAIN"]
        self.provider_headers = provider_headers(current_app.config)
        self.office_language = self.office.language
        self.signer = signer_for(self.office)  # its key loaded once for the whole batch
        self.stage = mailing.stage
        self.mailing_id = mailing.id

    def _link(self, url: str) -> str:
        """Called by templates for every link but the action and unsubscribe ones: wrapped as /c/TOKEN."""
        if not self.tracked:
            return url
        return placeholder(f"link:{link_id_for(self.mailing_id, url)}")

    def _case_url(self, language: str | None = None) -> str:
        """The public case page, in the email's language when it names one (the office's otherwise)."""
        lang = f"&lang={language}" if language else ""
        return public_url(f"/cases/{self.case.slug}?office={self.office.code}{lang}")

    def _context(self, language: str) -> dict:
        case, office = self.case, self.office
        # Counted from when the mailing is due, if that is later: a reminder planned 7 days ahead says 7.
        now = utcnow()
        as_of = max(now, self.mailing.send_at or now)
        left = days_left(self.drive.deadline, office.timezone, as_of)
        return {
            "mailing": self.mailing,
            "stage": self.mailing.stage,
            "case": case,
            "office": office,
            "drive": self.drive,
            "deadline": self.drive.deadline,
            "days_left": left,
            "days_left_phrase": (
                lazy_ngettext("%(num)d day left", "%(num)d days left", left)
                if left
                else lazy_gettext("last day to act")
            ),
            "case_url": self._case_url(language),
            "link": self._link,
            "name_suffix": placeholder("name_suffix"),
            "action_url": placeholder("act"),
            "unsubscribe_url": placeholder("unsubscribe"),
            "preferences_url": placeholder("preferences"),
            "pixel_url": placeholder("open") if self.tracked else None,
        }

    def rendered(self, language: str) -> tuple[Rendered, list[tuple[str, int]]]:
        """The mailing rendered in `language`, with the wrapped links it holds as (placeholder, link id)."""
        if language not in self._rendered:
            context = self._context(language)
            context["content"] = self.case.content(language)
            context["body"] = self.mailing.body_in(language, self.case_language)
            rendered = render(self.mailing.stage, language, context)
            names = set(PLACEHOLDER.findall(rendered.html + rendered.text))
            links = [(name, int(name.split(":")[1])) for name in names if name.startswith("link:")]
            self._rendered[language] = (rendered, links)
        return self._rendered[language]

    def _skeletons(self, language: str) -> tuple[Skeleton, Skeleton]:
        if language not in self._skeleton:
            rendered, _ = self.rendered(language)
            self._skeleton[language] = (Skeleton(rendered.text, html=False), Skeleton(rendered.html, html=True))
        return self._skeleton[language]

    def message(self, delivery_id: int, *, email: str, first_name: str, language: str | None) -> OutgoingEmail:
        """The email with its text and HTML written out: for previews and test emails. Raises Unsendable."""
        rendered, values, fields = self._personal(delivery_id, email, first_name, language)
        subject, text, html = personalise(rendered, values)
        return OutgoingEmail(subject=subject, text=text, html=html, **fields)

    def spliced(self, delivery_id: int, *, email: str, first_name: str, language: str | None) -> SplicedEmail:
        """The email as sent: the shared parts encoded once per language, this recipient's values spliced in.
        Raises Unsendable; an error that is not this message's own (the database, a template) as itself."""
        rendered, values, fields = self._personal(delivery_id, email, first_name, language)
        text, html = self._skeletons(rendered.language)
        return SplicedEmail(text=text, html=html, values=values, subject=personal_subject(rendered, values), **fields)

    def language_for(self, supporter_language: str | None) -> str:
        """The one language a supporter reads this email in: theirs, else the office's, else English.
        Decided once per language a batch holds, not once per recipient."""
        if supporter_language not in self._reads:
            self._reads[supporter_language] = reading_language(
                [supporter_language, self.office_language], self.content_languages, self.case_language, stage=self.stage
            )
        return self._reads[supporter_language]

    def _personal(self, delivery_id: int, email: str, first_name: str, language: str | None):
        """What differs per recipient: (the rendering in their language, placeholder values, message fields).
        The values are only ever substituted, so whatever they hold cannot fail the rest of the composing."""
        language = self.language_for(language)
        rendered, links = self.rendered(language)  # shared by the mailing: its errors are not this message's
        try:
            return (rendered, *self._values_and_fields(delivery_id, email, first_name, links))
        except BROKEN as error:
            raise unsendable("composing the message", error) from error

    def _values_and_fields(self, delivery_id: int, email: str, first_name: str, links: list[tuple[str, int]]):
        unsubscribe_token = make_token("unsubscribe", delivery_id)
        unsubscribe_url = public_url(f"/unsubscribe/{unsubscribe_token}")
        values = {
            "name_suffix": f" {first_name}" if first_name else "",
            "act": public_url(f"/act/{make_token('act', delivery_id)}"),
            "unsubscribe": unsubscribe_url,
            "preferences": public_url(f"/preferences/{make_token('preferences', delivery_id)}"),
            "open": public_url(f"/o/{make_token('open', delivery_id)}.gif"),
        }
        if self.preview:  # a preview's links lead to the public case page and record nothing
            values.update(act=self._case_url(), unsubscribe=self._case_url(), preferences=self._case_url(), open="")
        for name, link_id in links:
            values[name] = public_url(f"/c/{make_token('click', delivery_id, link_id)}")
        if self.inbound_domain:  # a bounce or a mail to the unsubscribe address names this email (`flask inbound`)
            envelope_from = f"bounce+{make_token('bounce', delivery_id)}@{self.inbound_domain}"
            mailto = f"unsubscribe+{unsubscribe_token}@{self.inbound_domain}"
        else:
            envelope_from, mailto = None, f"{self.mailto}?subject={quote('unsubscribe ' + unsubscribe_token)}"
        headers = {
            "List-Unsubscribe": f"<{unsubscribe_url}>, <mailto:{mailto}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        for name, value in self.provider_headers:
            headers[name] = value % delivery_id
        fields = {
            "sender": self.sender,
            "recipient": email if email.isascii() else idna_address(email),
            "reply_to": self.reply_to,
            "message_id": f"<delivery.{delivery_id}@{self.domain}>",
            "signer": self.signer,
            "headers": headers,
            "envelope_from": envelope_from,
        }
        return values, fields
