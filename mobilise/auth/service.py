"""Staff accounts and their API tokens, and who may reach which office; a manager's colleagues added, changed, removed."""

import hashlib
import secrets

from werkzeug.security import generate_password_hash

from ..audit.service import record
from ..clock import utcnow
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..offices.models import Office
from ..offices.service import get_office
from ..validation import normalise_email
from .models import ApiToken, Staff
from .roles import ADMIN, OFFICE_ROLES

TOKEN_PREFIX = "mob_"


def _hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def create_staff(email: str, *, admin: bool, office_code: str | None, password: str | None, role: str | None = None):
    """Returns the account and its password (generated when none is given).

    An office account's role is `manager` unless another is named; an admin has no other role.
    """
    try:
        email = normalise_email(email)
    except ValueError as error:
        raise Invalid(f"invalid email: {error}") from None
    if admin == bool(office_code):
        raise Invalid("a staff account is either --admin or belongs to one --office")
    if admin and role not in (None, ADMIN):
        raise Invalid("an admin reaches every office: it takes no office role")
    if not admin and (role or "manager") not in OFFICE_ROLES:
        raise Invalid(f"an office role is one of {', '.join(OFFICE_ROLES)}")
    office = get_office(office_code) if office_code else None
    if db.session.scalar(db.select(Staff.id).where(Staff.email == email)):
        raise Conflict(f"staff account {email} already exists")
    password = password or secrets.token_urlsafe(12)
    staff = Staff(
        email=email,
        password_hash=generate_password_hash(password),
        role=ADMIN if admin else (role or "manager"),
        office_id=office.id if office else None,
    )
    db.session.add(staff)
    db.session.flush()
    record("staff.created", subject=staff.email, office=staff.office_id, details={"role": staff.role})
    db.session.commit()
    return staff, password


def end_sessions(staff: Staff) -> None:
    """Every session cookie of `staff` made before now stops working, wherever it was saved."""
    db.session.execute(db.update(Staff).where(Staff.id == staff.id).values(session_version=Staff.session_version + 1))
    db.session.commit()


def staff_for_session(session_id: str) -> Staff | None:
    """The account a session names (as `Staff.get_id` wrote it), if that session has not been ended since."""
    staff_id, _, version = session_id.partition(":")
    if not (staff_id.isdigit() and version.isdigit()):
        return None
    staff = db.session.get(Staff, int(staff_id))
    return staff if staff is not None and staff.session_version == int(version) else None


def set_password(email: str, password: str) -> Staff:
    """A new password ends every session signed in with the old one."""
    staff = db.session.scalar(db.select(Staff).where(Staff.email == email.strip().lower()))
    if staff is None:
        raise NotFound(f"no staff account {email}")
    if len(password) < 8:
        raise Invalid("a password has at least 8 characters")
    staff.password_hash = generate_password_hash(password)
    staff.session_version += 1
    record("staff.password_set", subject=staff.email, office=staff.office_id)
    db.session.commit()
    return staff


def issue_token(email: str) -> str:
    staff = db.session.scalar(db.select(Staff).where(Staff.email == email.strip().lower()))
    if staff is None:
        raise NotFound(f"no staff account {email}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(staff_id=staff.id, token_hash=_hash(token)))
    record("token.created", subject=staff.email, office=staff.office_id)
    db.session.commit()
    return token


def staff_for_token(token: str) -> Staff | None:
    row = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None:
        return None
    row.last_used_at = utcnow()
    db.session.commit()
    return row.staff


def office_for(staff: Staff, code: str) -> Office:
    """The office `staff` asks for, or NotFound: another office's data must not even be seen to exist."""
    office = get_office(code)
    if not staff.is_admin and staff.office_id != office.id:
        raise NotFound(f"no office {code.upper()}")
    return office


# An office's staff, as its managers (or an admin) keep them. A manager acts within their own office only and
# never on an admin; an office keeps its last manager unless an admin changes it, so it is never left
# without someone who can add colleagues.


def list_staff(actor: Staff, office: Office | None) -> list[Staff]:
    """The accounts `actor` may manage: their office's; for an admin, `office`'s, or every account (None)."""
    query = db.select(Staff).order_by(Staff.office_id.is_not(None), Staff.email)
    if not actor.is_admin:
        office = actor.office
    if office is not None:
        query = query.where(Staff.office_id == office.id)
    return list(db.session.scalars(query))


def add_colleague(actor: Staff, email: str, role: str, office_code: str | None = None):
    """A new office account, and its generated password (shown once). A manager adds to their own office only."""
    if role not in OFFICE_ROLES:
        raise Invalid(f"an office role is one of {', '.join(OFFICE_ROLES)}")
    code = office_code if actor.is_admin else actor.office.code
    if not code:
        raise Invalid("name the office the account belongs to")
    return create_staff(email, admin=False, office_code=code, password=None, role=role)


def _colleague(actor: Staff, staff_id: int) -> Staff:
    """The account `actor` may change: another office's is not seen to exist; an admin's is an admin's to change."""
    staff = db.session.get(Staff, staff_id)
    # Not found first: a manager must not tell an admin's account (403) from another office's (404) by its id.
    if staff is None or (not actor.is_admin and (staff.is_admin or staff.office_id != actor.office_id)):
        raise NotFound("no such staff account")
    return staff


def _keeps_a_manager(actor: Staff, staff: Staff) -> None:
    """The office's last manager stays one, unless an admin decides otherwise."""
    if actor.is_admin or staff.role != "manager":
        return
    managers = db.session.scalar(
        db.select(db.func.count(Staff.id)).where(Staff.office_id == staff.office_id, Staff.role == "manager")
    )
    if managers <= 1:
        raise Conflict("an office keeps at least one manager: make a colleague manager first")


def change_role(actor: Staff, staff_id: int, role: str) -> Staff:
    """A new role, in force at the account's next request: its sessions and tokens read it each time."""
    staff = _colleague(actor, staff_id)
    if staff.is_admin:
        raise Invalid("an admin reaches every office: it takes no office role")
    if role not in OFFICE_ROLES:
        raise Invalid(f"an office role is one of {', '.join(OFFICE_ROLES)}")
    if role != staff.role:
        _keeps_a_manager(actor, staff)
        record(
            "staff.role_changed", subject=staff.email, office=staff.office_id, details={"from": staff.role, "to": role}
        )
        staff.role = role
        db.session.commit()
    return staff


def remove_staff(actor: Staff, staff_id: int) -> str:
    """The account is deleted with its tokens: its sessions and tokens stop working at its next request.
    Returns the address it had, for the page that says so."""
    staff = _colleague(actor, staff_id)
    _keeps_a_manager(actor, staff)
    email = staff.email
    record("staff.removed", subject=email, office=staff.office_id, details={"role": staff.role})
    db.session.execute(db.delete(ApiToken).where(ApiToken.staff_id == staff.id))
    db.session.delete(staff)
    db.session.commit()
    return email
