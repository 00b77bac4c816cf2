"""The world the role tests act in: GB with a launched case and a case to launch, its staff in each role, an
admin, and ES's manager (another office); and a fingerprint of everything a refused call must leave alone."""

import io
from dataclasses import dataclass

from flask import current_app
from werkzeug.datastructures import FileStorage

from mobilise.extensions import db
from mobilise.models import ApiToken, Case, CaseTranslation, Drive, Import, Mailing, Office, Staff, Supporter
from mobilise.outbound.endpoints import register
from mobilise.outbound.models import WebhookEndpoint
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.models import MailingStatus
from mobilise.supporters.imports import queue_import

from .builders import make_case, make_office, make_supporters, token_for, translated

SPAIN = {
    "code": "ES",
    "name": "Amnistía España",
    "language": "es",
    "timezone": "Europe/Madrid",
    "sender": "a@es.example.org",
}
# Who acts, lowest first; "other" is ES's manager, whose answers about GB's data are 404s (or 403s: admin calls).
ROLES = ("viewer", "campaigner", "manager", "admin")
ACTORS = (*ROLES, "other")
EMAILS = {
    "viewer": "viewer@uk.example.org",
    "campaigner": "campaigner@uk.example.org",
    "manager": "manager@uk.example.org",
    "admin": "admin@example.org",
    "other": "manager@es.example.org",
}
SUPPORTER = "person0@gb.example.net"
CSV = b"email,first_name\nnew.person@gb.example.net,New\n"


@dataclass
class World:
    tokens: dict
    ids: dict  # what the paths name: {case}, {fresh}, {mailing}, {import}, {supporter}, {viewer_id}, {webhook}, ...


def build_world() -> World:
    gb, es = make_office(), make_office(**SPAIN)
    make_supporters(gb, 3)
    make_supporters(es, 2)
    case = make_case(translations=translated("fr"))
    fresh = make_case(title="Free the students of Minsk", reference="UA 54/25")
    drive = start_drive(case, gb, {"office": "GB"})
    mailing = db.session.scalar(db.select(Mailing).where(Mailing.drive_id == drive.id).order_by(Mailing.id))
    # Paused for staff (as after repeated failures), so that resuming it is an act that shows.
    mailing.status, mailing.pause_reason, mailing.paused_until = MailingStatus.PAUSED, "relay down", None
    db.session.commit()
    job = queue_import(gb, FileStorage(io.BytesIO(CSV), "list.csv"), "list.csv")
    current_app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the receivers of these tests are on loopback
    webhook, _ = register(gb, {"url": "http://127.0.0.1:9/crm", "events": ["action.created"]})
    tokens = {
        "admin": token_for(EMAILS["admin"], admin=True),
        "other": token_for(EMAILS["other"], office="ES"),
        **{role: token_for(EMAILS[role], office="GB", role=role) for role in ("manager", "campaigner", "viewer")},
    }
    staff_ids = {role: db.session.scalar(db.select(Staff.id).where(Staff.email == EMAILS[role])) for role in ACTORS}
    supporter = db.session.scalar(db.select(Supporter.id).where(Supporter.email == SUPPORTER))
    return World(
        tokens=tokens,
        ids={
            "case": case.id,
            "fresh": fresh.id,
            "mailing": mailing.id,
            "import": job.id,
            "supporter": supporter,
            "viewer_id": staff_ids["viewer"],
            "campaigner_id": staff_ids["campaigner"],
            "webhook": webhook.id,
        },
    )


def allowed(actor: str, lowest: str) -> bool:
    """Whether `actor` (of GB, or the admin) holds a call whose lowest role is `lowest`."""
    rank = {"other": ROLES.index("manager")} | {role: n for n, role in enumerate(ROLES)}
    return rank[actor] >= ROLES.index(lowest) and not (actor == "other" and lowest == "admin")


def expected_refusal(actor: str, lowest: str, scoped: bool) -> int | None:
    """403 for a role below the call; ES's manager asking for GB's data gets the 404 it always got."""
    if not allowed(actor, lowest):
        return 403
    if actor == "other" and scoped:
        return 404
    return None


def fingerprint() -> tuple:
    """Everything the calls of the tables could change, read afresh from the database."""
    db.session.expire_all()

    def rows(*columns):
        return sorted(tuple(row) for row in db.session.execute(db.select(*columns)).all())

    return (
        rows(Office.code, Office.logo_url, Office.dkim_selector),
        rows(Case.id, Case.title, Case.summary, Case.status, Case.deadline),
        rows(CaseTranslation.case_id, CaseTranslation.language, CaseTranslation.title),
        rows(Drive.case_id, Drive.office_id),
        rows(Mailing.id, Mailing.status),
        rows(Supporter.email, Supporter.status, Supporter.first_name),
        rows(Import.id),
        rows(Staff.email, Staff.role),
        rows(ApiToken.staff_id),
        rows(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.enabled),
    )
