"""The rights of the person on the list: to see everything held on them, and to be erased."""

from ..audit.service import record
from ..cases.models import Action, Case
from ..clock import iso, utcnow
from ..errors import Invalid, NotFound
from ..extensions import db
from ..offices.models import Office
from ..outbound.outbox import forget_supporter
from ..sending.models import Delivery
from ..sequences.models import Drive, Mailing
from ..supporters.consent import history, record_change
from ..supporters.models import Bounce, ConsentChange, Supporter, SupporterTag, VisitorAction
from ..supporters.preferences import exported, forget_preferences
from ..tokens import address_digest
from ..tracking.models import Event
from ..validation import normalise_email


def find_supporter(office: Office, email) -> Supporter:
    """The supporter of `office` with this address; 422 when it is not an address at all, 404 when unknown."""
    if not isinstance(email, str) or not email.strip():
        raise Invalid("invalid input", [{"field": "email", "error": "is required"}])
    try:
        address = normalise_email(email)
    except ValueError as error:
        raise Invalid("invalid input", [{"field": "email", "error": str(error)}]) from None
    supporter = db.session.scalar(
        db.select(Supporter).where(Supporter.office_id == office.id, Supporter.email == address)
    )
    if supporter is None:
        raise NotFound(f"no supporter of {office.code} has that address")
    return supporter


def export_supporter(office: Office, email) -> dict:
    """Everything held on the person: profile, consent history, bounces, emails sent, opens, clicks, actions, and
    their requests to act from the public case page."""
    supporter = find_supporter(office, email)
    emails = db.session.execute(
        db.select(Delivery, Mailing.stage, Case.reference, Case.title)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .join(Drive, Drive.id == Mailing.drive_id)
        .join(Case, Case.id == Drive.case_id)
        .where(Delivery.supporter_id == supporter.id)
        .order_by(Delivery.id)
    ).all()
    events = db.session.scalars(
        db.select(Event)
        .where(Event.delivery_id.in_([delivery.id for delivery, *_ in emails]))
        .order_by(Event.created_at)
    ).all()
    actions = db.session.execute(
        db.select(Action, Case.reference)
        .join(Case, Case.id == Action.case_id)
        .where(Action.supporter_id == supporter.id)
    ).all()
    bounces = db.session.scalars(db.select(Bounce).where(Bounce.supporter_id == supporter.id).order_by(Bounce.id))
    # Their requests to act from the public case page: found by the address's digest, which each one keeps.
    requests = db.session.execute(
        db.select(VisitorAction, Case.reference)
        .join(Case, Case.id == VisitorAction.case_id)
        .where(VisitorAction.office_id == office.id, VisitorAction.email_digest == address_digest(supporter.email))
        .order_by(VisitorAction.id)
    ).all()

    def event(row: Event) -> dict:
        return {
            "email": row.delivery_id,
            "at": iso(row.created_at),
            "network": row.network,
            "by": "machine" if row.machine else "person",
            "why": row.reason,
        }

    found = {
        "office": office.code,
        "supporter": {**supporter.to_dict(), "created_at": iso(supporter.created_at)},
        "consent_history": history(supporter),
        "preferences": exported(supporter.id),
        "bounces": [b.to_dict() for b in bounces],
        "emails": [
            {
                "id": d.id,
                "case": reference,
                "case_title": title,
                "stage": stage,
                "status": d.status,
                "sent_at": iso(d.sent_at),
            }
            for d, stage, reference, title in emails
        ],
        "opens": [event(e) for e in events if e.kind == "open"],
        "clicks": [event(e) for e in events if e.kind == "click"],
        "unsubscribes": [event(e) for e in events if e.kind == "unsubscribe"],
        "actions": [{"case": reference, "at": iso(a.created_at)} for a, reference in actions],
        "requests_to_act": [
            {
                "case": reference,
                "first_name": r.first_name,
                "network": r.network,
                "requested_at": iso(r.requested_at),
                "confirmed_at": iso(r.confirmed_at),
            }
            for r, reference in requests
        ],
    }
    # Reading writes nothing else: the entry is committed alone, once the export is whole.
    record("supporter.exported", subject=f"supporter {supporter.id}", office=office)
    db.session.commit()
    return found


def erase_supporter(office: Office, email) -> dict:
    """Remove the person's data for good. The row stays, nameless and unmailable, so every count keeps
    its number; the address is gone, so if it comes back it is a new supporter with a new consent."""
    supporter = find_supporter(office, email)
    # A request to act from the case page still waiting for its click holds the address and name too; its keyed
    # digest stays (it reads as nothing without SECRET_KEY) so the office's count of those who acted keeps its number.
    db.session.execute(
        db.update(VisitorAction)
        .where(VisitorAction.office_id == office.id, VisitorAction.email == supporter.email)
        .values(email=None, first_name="", network=None)
    )
    forget_supporter(office.id, supporter.email)  # the webhooks out not yet delivered go; the rest keep no address
    supporter.email = None
    supporter.first_name = supporter.last_name = ""
    supporter.language = supporter.consent_source = supporter.consent_at = None
    supporter.erased_at = utcnow()
    db.session.execute(db.delete(SupporterTag).where(SupporterTag.supporter_id == supporter.id))
    forget_preferences(supporter.id)
    db.session.execute(db.delete(ConsentChange).where(ConsentChange.supporter_id == supporter.id))
    db.session.execute(db.delete(Bounce).where(Bounce.supporter_id == supporter.id))  # relay details quote the address
    mine = db.select(Delivery.id).where(Delivery.supporter_id == supporter.id)
    db.session.execute(db.update(Delivery).where(Delivery.id.in_(mine)).values(error=None))
    db.session.execute(db.update(Event).where(Event.delivery_id.in_(mine)).values(network=None))
    db.session.expire(supporter, ["tag_rows"])
    supporter.status, supporter.status_changed_at = "unsubscribed", supporter.erased_at
    record_change(supporter, "erased", None)  # the one row left: when, and nothing about whom
    record("supporter.erased", subject=f"supporter {supporter.id}", office=office)  # by id: nothing the erasure removed
    db.session.commit()
    return {"erased": True}
