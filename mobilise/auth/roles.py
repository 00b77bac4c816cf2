"""Who may do what: each staff account has one role, and each view names the permission it needs.

An admin reaches every office and may do everything. An office's staff reach their own office only, and
within it what their role allows. The table below is the whole policy: views declare a permission with
`@requires(...)`, the same decorator in the API and the console, and templates ask `can(...)` to hide what
the reader may not use. A role below what a view needs answers 403.
"""

from functools import wraps

from flask import g
from flask_login import current_user
from werkzeug.exceptions import Forbidden

ADMIN = "admin"
OFFICE_ROLES = ("manager", "campaigner", "viewer")
ROLES = (ADMIN, *OFFICE_ROLES)

# permission -> the office roles that hold it (an admin holds them all).
PERMISSIONS: dict[str, frozenset[str]] = {
    # cases, their counts, schedules and audiences, the queues and the office's reputation
    "read": frozenset({"manager", "campaigner", "viewer"}),
    # launch a drive, preview and test its emails, resume a paused mailing
    "campaign": frozenset({"manager", "campaigner"}),
    # see, search, add and import supporters: their personal data
    "supporters": frozenset({"manager", "campaigner"}),
    # everything held on one supporter, and the suppression list of addresses
    "export": frozenset({"manager"}),
    "erase": frozenset({"manager"}),
    # the office's staff, settings (logo, DKIM key), audit trail and webhooks out
    "manage": frozenset({"manager"}),
    # every office at once: offices and cases made, cases corrected and changed
    "admin": frozenset(),
}


def can(staff, permission: str) -> bool:
    """Whether `staff` (an account, or None) holds `permission` in their own office."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if staff is None or not getattr(staff, "is_authenticated", True):
        return False
    return staff.role == ADMIN or staff.role in PERMISSIONS[permission]


def held_by_every_role(permission: str) -> bool:
    """Whether no signed-in account can be refused `permission` (so a view needing it never answers 403)."""
    return PERMISSIONS[permission] == frozenset(OFFICE_ROLES)


def acting_staff():
    """The account behind this request: the API's bearer token, else the console's session."""
    staff = g.get("staff")
    if staff is not None:
        return staff
    return current_user if current_user and current_user.is_authenticated else None


def requires(permission: str):
    """A view that needs `permission`: 403 for a role without it (the sign-in itself is checked before)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not can(acting_staff(), permission):
                raise Forbidden(f"your role may not do this ({permission} is needed)")
            return view(*args, **kwargs)

        checked.permission = permission
        return checked

    return decorate
