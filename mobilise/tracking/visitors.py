"""A visitor's action, confirmed from the link in their email, counted once for the office.

The link's token names the request (supporters.models.VisitorAction), never the person. Following it (GET)
shows a button; only its POST records, so a mail scanner following links confirms nothing. Each person counts
once per case and office: a supporter of the office gets an `Action` (source "page") unless they already have
one, from an email or an earlier request; anyone else's confirmed request is itself the action, kept single by
the unique (case, office, counted_digest) key. Either way the counters move in the same transaction, only
when the row that counts is written, so confirming twice, or twice at once, counts once.
"""

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from ..cases.models import Action, Case
from ..clock import utcnow
from ..counts.service import count_action
from ..extensions import db
from ..languages import UI_LANGUAGES, reading_language
from ..offices.models import Office
from ..outbound.outbox import emit
from ..sequences.models import Drive
from ..supporters.consent import record_change
from ..supporters.models import Supporter, VisitorAction
from ..supporters.signup import CONFIRM_WITHIN
from ..supporters.visitors import SOURCE
from ..tokens import address_digest, read_token

PAGE = "page"  # Action.source of an action confirmed from the public case page


def visitor_context(token: str) -> dict | None:
    """What the link's page shows: `ready` to confirm, `done`, `expired` or `closed`; None for a bad token."""
    ids = read_token("visitor", token)
    request = db.session.get(VisitorAction, ids[0]) if ids else None
    if request is None:
        return None
    case, office = db.session.get(Case, request.case_id), db.session.get(Office, request.office_id)
    drive = db.session.scalar(db.select(Drive).where(Drive.case_id == case.id, Drive.office_id == office.id))
    if drive is None:
        return None
    if request.confirmed_at is not None:
        state = "done"
    elif case.status == "closed":
        state = "closed"
    elif request.email is None or utcnow() - request.requested_at > CONFIRM_WITHIN:
        state = "expired"
    else:
        state = "ready"
    language = reading_language([request.language, office.language], case.languages(), case.language)
    return {
        "state": state,
        "visitor": request,
        "case": case,
        "office": office,
        "drive": drive,
        "content": case.content(language),
        "page_language": language,
    }


def confirm_visitor_action(token: str, address: str | None) -> dict | None:
    """Count the action (once) and, if the visitor asked, subscribe them: the click proves the address."""
    context = visitor_context(token)
    if context is None or context["state"] != "ready":
        return context
    request, office = context["visitor"], context["office"]
    email, now = request.email, utcnow()
    # Only the first confirmation goes on: a second one (a double tap racing itself) waits here, then matches nothing.
    first = db.session.execute(
        db.update(VisitorAction)
        .where(VisitorAction.id == request.id, VisitorAction.confirmed_at.is_(None))
        .values(confirmed_at=now, email=None, first_name="")
        .execution_options(synchronize_session=False)
    ).rowcount
    if first:
        supporter = db.session.scalar(
            db.select(Supporter).where(Supporter.office_id == office.id, Supporter.email == email)
        )
        if request.wants_to_join:
            supporter = _join(office, supporter, email, request, address)
        if supporter is not None:
            _count_supporter(context, supporter, request.email_digest, now)
        else:
            _count_visitor(context, request, now)
    db.session.commit()
    context["state"] = "done"
    return context


def _join(
    office: Office, supporter: Supporter | None, email: str, request: VisitorAction, address: str | None
) -> Supporter:
    """The opt-in the visitor ticked for, given by this click: subscribed, with the name and language they gave."""
    if supporter is None:  # the pending row made with the request is gone (erased since): made again
        supporter = Supporter(office_id=office.id, email=email, status="pending")
        db.session.add(supporter)
        db.session.flush()
    if supporter.status in ("pending", "unsubscribed"):
        supporter.first_name = supporter.first_name or request.first_name
        if not supporter.language and request.language in UI_LANGUAGES:
            supporter.language = request.language
        record_change(supporter, "confirmed", f"{SOURCE}: confirmation link in the email", address=address)
    return supporter


def _count_supporter(context: dict, supporter: Supporter, digest: str, now: datetime) -> None:
    """An Action for the supporter unless they have one. A count the same person had as a visitor moves to it."""
    case, office = context["case"], context["office"]
    if db.session.scalar(db.select(Action.id).where(Action.case_id == case.id, Action.supporter_id == supporter.id)):
        return
    earlier = _counted_as_visitor(case.id, office.id, digest)
    try:
        with db.session.begin_nested():
            # Dated when the person first acted, so a recount from the rows puts it on the same day.
            action = Action(
                case_id=case.id,
                office_id=office.id,
                supporter_id=supporter.id,
                source=PAGE,
                created_at=earlier.confirmed_at if earlier else now,
            )
            db.session.add(action)
            db.session.flush()  # the unique (supporter, case) key decides here, before anything is counted
            emit(office.id, "action.created", supporter.email, case=case.reference, at=action.created_at)
            if earlier is not None:
                earlier.counted_digest = None  # already counted: now as the supporter's action
            else:
                count_action(context["drive"].id, None, action.created_at.date())
    except IntegrityError:  # their action from an email was written at this very moment: it counts
        pass


def _count_visitor(context: dict, request: VisitorAction, now: datetime) -> None:
    try:
        with db.session.begin_nested():
            db.session.execute(
                db.update(VisitorAction)
                .where(VisitorAction.id == request.id)
                .values(counted_digest=request.email_digest)
                .execution_options(synchronize_session=False)
            )
            count_action(context["drive"].id, None, now.date())
    except IntegrityError:  # the same person confirmed another request for this case: counted then
        pass


def _counted_as_visitor(case_id: int, office_id: int, digest: str) -> VisitorAction | None:
    return db.session.scalar(
        db.select(VisitorAction).where(
            VisitorAction.case_id == case_id,
            VisitorAction.office_id == office_id,
            VisitorAction.counted_digest == digest,
        )
    )


def take_over_visitor_count(case_id: int, office_id: int, email: str | None) -> datetime | None:
    """For a supporter's first action on a case: if this address was already counted there as a visitor of the
    page, that count becomes the supporter's (cleared here; the caller counts nothing more for the office) and
    the time they first acted is returned, to date the action; else None. Call it before the action's savepoint,
    which flushes the change first (see record_action)."""
    earlier = _counted_as_visitor(case_id, office_id, address_digest(email)) if email else None
    if earlier is None:
        return None
    earlier.counted_digest = None
    return earlier.confirmed_at
