"""Recording acts in the audit trail, reading it back, and forgetting it after AUDIT_RETENTION_DAYS.

`record` only adds the entry to the session: the service doing the act calls it before its own commit, so
the act and its entry are written together or not at all, and an act that fails leaves no entry.

The actor is found here rather than passed in, so that no service has to carry it: in a request it is the
API's bearer-token account (`g.staff`) or else the console's signed-in account; outside one (the command
line, a worker) it is "command line". Every domain records, offices and auth included, so this package sits
below them all: it knows accounts and offices only by their attributes (`id`, `email`, `office_id`).
"""

from datetime import datetime, timedelta

from flask import current_app, g, has_request_context, request
from flask_login import current_user

from ..clock import iso, utcnow
from ..extensions import db
from ..networks import network_of
from .models import AuditEntry

COMMAND_LINE = "command line"
API_PREFIX = "/api/"  # the API's requests carry a bearer token (mobilise.api sets g.staff); the console's a session
PRUNE_BATCH = 5000  # rows deleted per statement: a long backlog never holds one long lock


def acting_account():
    """The account behind this request (the API's token, else the console's session), or None."""
    if not has_request_context():
        return None
    # `g` belongs to the app context, which a request may share with the code around it (the tests'): only an
    # API request's own `g.staff` is its bearer token's account.
    if request.path.startswith(API_PREFIX) and (staff := g.get("staff")) is not None:
        return staff
    return current_user if current_user and current_user.is_authenticated else None


def record(
    action: str, *, subject=None, office=None, details: dict | None = None, actor: str | None = None, staff=None
) -> AuditEntry:
    """Add an entry for `action` to the session, for the caller to commit with the act.

    `office` (an Office or its id) is the office the act concerns; without it, the actor's own. `details` is
    small and never holds a password, token, key or a supporter's personal data. `actor` and `staff` name
    someone other than the signed-in account: a failed sign-in names the address that was tried.
    """
    if actor is None:
        staff = acting_account()
        actor = staff.email if staff is not None else COMMAND_LINE
    office_id = getattr(office, "id", office)
    if office_id is None and staff is not None:
        office_id = staff.office_id
    entry = AuditEntry(
        at=utcnow(),
        staff_id=staff.id if staff is not None else None,
        actor=actor[:320],
        office_id=office_id,
        action=action,
        subject=None if subject is None else str(subject)[:320],
        details=details or {},
        network=network_of(request.remote_addr) if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def list_entries(*, office_id: int | None, action: str | None = None, page: int = 1, per_page: int = 50) -> dict:
    """A page of entries, newest first: one office's (`office_id`), or every office's with None."""
    query = db.select(AuditEntry)
    if office_id is not None:
        query = query.where(AuditEntry.office_id == office_id)
    if action:
        query = query.where(AuditEntry.action == action)
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    items = db.session.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def entry_to_dict(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": entry.actor,
        "office": entry.office.code if entry.office is not None else None,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details or {},
        "network": entry.network,
    }


def actions_recorded(office_id: int | None) -> list[str]:
    """The action names found in the trail (one office's, or all), for a filter's choices."""
    query = db.select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    if office_id is not None:
        query = query.where(AuditEntry.office_id == office_id)
    return list(db.session.scalars(query))


def prune_entries(at: datetime | None = None) -> int:
    """For the tick: entries older than AUDIT_RETENTION_DAYS deleted, one batch a tick (a long backlog, after
    the retention is shortened, must not hold the tick past its timeout). Returns how many."""
    before = (at or utcnow()) - timedelta(days=current_app.config["AUDIT_RETENTION_DAYS"])
    ids = db.session.scalars(
        db.select(AuditEntry.id).where(AuditEntry.at < before).order_by(AuditEntry.id).limit(PRUNE_BATCH)
    ).all()
    if ids:
        db.session.execute(db.delete(AuditEntry).where(AuditEntry.id.in_(ids)))
        db.session.commit()
    return len(ids)
