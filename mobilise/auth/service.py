"""Staff accounts and their API tokens, and who may reach which office."""
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
