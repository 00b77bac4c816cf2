"""What supporters do with an email: opens, clicks, actions, unsubscribes.

Every function takes the token from the link and does nothing at all when it is tampered,
of the wrong purpose, or names a row that does not exist: the caller answers 404.
"""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..cases.letter import compose_for, letters
from ..cases.models import Action, Case
from ..clock import days_left, utcnow
from ..counts.service import add_to_mailing, count_action
from ..extensions import db
from ..languages import reading_language
from ..outbound.outbox import emit
from ..sending.models import Delivery, MailingLink
from ..sequences.models import Drive, Mailing
from ..supporters.consent import record_change
from ..tokens import read_token
from . import events
from .marks import mark_events
from .models import Event
from .visitors import take_over_visitor_count

# What a supporter's pages show of their email, loaded with the delivery in one query rather than one lazy load
# each: the unsubscribe page its supporter and office; the action page, read on every visit, the case as well.
_UNSUBSCRIBE_PAGE = (
    joinedload(Delivery.supporter),
    joinedload(Delivery.mailing).joinedload(Mailing.drive).joinedload(Drive.office),
)
_ACTION_PAGE = (
    *_UNSUBSCRIBE_PAGE,
    joinedload(Delivery.mailing).joinedload(Mailing.drive).joinedload(Drive.case).joinedload(Case.translations),
)


def _email(delivery_id: int, page: tuple) -> Delivery | None:
    return db.session.get(Delivery, delivery_id, options=page)


def _delivery(purpose: str, token: str, page: tuple) -> Delivery | None:
    ids = read_token(purpose, token)
    return _email(ids[0], page) if ids else None


def _has_acted(case_id: int, supporter_id: int) -> bool:
    return (
        db.session.scalar(db.select(Action.id).where(Action.case_id == case_id, Action.supporter_id == supporter_id))
        is not None
    )


def warm_queries() -> None:
    """The action page's queries compiled into SQLAlchemy's cache, through a delivery that cannot exist (see `warm`)."""
    _email(0, _ACTION_PAGE)
    _has_acted(0, 0)


def record_open(token: str, user_agent: str | None, address: str | None) -> bool:
    """Hand the open to the event stream. No database query: only the service can sign this token."""
    ids = read_token("open", token)
    if ids is None:
        return False
    events.record("open", ids[0], None, user_agent, address)
    return True


def record_click(token: str, user_agent: str | None, address: str | None) -> str | None:
    """The URL to redirect to: only a link the service wrote into this delivery's mailing."""
    ids = read_token("click", token, arity=2)
    if ids is None:
        return None
    delivery_id, link_id = ids
    url = db.session.scalar(
        db.select(MailingLink.url).where(
            MailingLink.id == link_id,
            MailingLink.mailing_id
            == db.select(Delivery.mailing_id).where(Delivery.id == delivery_id).scalar_subquery(),
        )
    )
    if url is None:
        return None
    events.record("click", delivery_id, link_id, user_agent, address)
    return url


def action_context(token: str) -> dict | None:
    """What the action page shows for this email's recipient, or None for a bad token."""
    delivery = _delivery("act", token, _ACTION_PAGE)
    if delivery is None:
        return None
    drive = delivery.mailing.drive
    case = drive.case
    supporter = delivery.supporter
    language = reading_language([supporter.language, drive.office.language, "en"], case.languages(), case.language)
    letter, own_letter = letters(case, language)
    return {
        "delivery": delivery,
        "page_language": language,
        "content": case.content(language),
        "letter": letter,  # the one to send, in the target's language when the case has it
        "own_letter": own_letter,  # the reader's version of it, when that is another language
        "compose": compose_for(case, letter),  # None when the target has no email address
        "supporter": supporter,
        "case": case,
        "office": drive.office,
        "drive": drive,
        "acted": _has_acted(case.id, supporter.id),
        "days_left": days_left(drive.deadline, drive.office.timezone),
    }


def record_visit(context: dict, user_agent: str | None, address: str | None) -> None:
    """Opening the action page from the email is a click on its main link (none recorded for a high-risk case)."""
    if not context["case"].high_risk:
        events.record("click", context["delivery"].id, None, user_agent, address)


def record_action(token: str) -> dict | None:
    """Record that the recipient acted on the case (once); None for a bad token."""
    context = action_context(token)
    if context is None:
        return None
    if not context["acted"] and context["case"].status != "closed":
        case_id, office_id, email = context["case"].id, context["office"].id, context["supporter"].email
        supporter_id, delivery_id = context["supporter"].id, context["delivery"].id
        drive_id, mailing_id = context["drive"].id, context["delivery"].mailing_id
        # Someone who already acted from the public case page, before they were on the list, counts once. Looked up
        # before the savepoint: on SQLite (WAL) a transaction that reads and then writes fails at once ("database is
        # locked") when another connection committed in between, where one that starts with its write waits its turn.
        earlier = take_over_visitor_count(case_id, office_id, email)
        try:
            with db.session.begin_nested():
                action = Action(
                    case_id=case_id,
                    office_id=office_id,
                    supporter_id=supporter_id,
                    delivery_id=delivery_id,
                    created_at=earlier or utcnow(),
                )
                db.session.add(action)
                db.session.flush()  # the unique key decides here, before anything is counted
                emit(office_id, "action.created", email, case=context["case"].reference, at=action.created_at)
                if earlier is None:
                    count_action(drive_id, mailing_id, action.created_at.date())
                else:  # the office counted them then; the email they acted from counts them now
                    add_to_mailing(mailing_id, acted=1)
            db.session.commit()
        except IntegrityError:  # a double submit racing itself: the first one counts
            db.session.rollback()
        context["acted"] = True
    return context


def unsubscribe_context(token: str) -> dict | None:
    delivery = _delivery("unsubscribe", token, _UNSUBSCRIBE_PAGE)
    if delivery is None:
        return None
    return {"delivery": delivery, "office": delivery.mailing.drive.office, "supporter": delivery.supporter}


def unsubscribe(token: str, address: str | None = None) -> dict | None:
    """Stop all mail from the office to this recipient, at once (RFC 8058 one-click)."""
    context = unsubscribe_context(token)
    if context is None:
        return None
    unsubscribe_delivery(context["delivery"], "unsubscribe link in an email", address=address)
    db.session.commit()
    return context


def unsubscribe_delivery(delivery: Delivery, source: str, address: str | None = None) -> None:
    """The recipient of this email asked for no more mail from its office (a link, a mail to the List-Unsubscribe
    address, a provider's unsubscribe event): the email counts one unsubscribe, however often they ask.
    The caller commits."""
    supporter = delivery.supporter
    if supporter.status in ("subscribed", "pending"):
        record_change(supporter, "withdrawn", source, address=address)
        emit(supporter.office_id, "supporter.unsubscribed", supporter.email, mailing_id=delivery.mailing_id)
    already = db.session.scalar(
        db.select(Event.id).where(Event.delivery_id == delivery.id, Event.kind == "unsubscribe")
    )
    if already is None:
        db.session.add(Event(kind="unsubscribe", delivery_id=delivery.id))
        mark_events([("unsubscribe", delivery.id, False)])
