"""Rebuild the counters of some drives from the rows they count: deliveries, events, actions.

The writers keep the counters exact as they go (mobilise/counts); this is for data that arrived
another way: a database from before the counters, a bulk load, a repair. It locks nothing, so
run it while the drives' counts are quiet (`flask --app app stats recount`).
"""

from sqlalchemy import and_, func
from sqlalchemy import case as when
from sqlalchemy.orm import aliased

from ..cases.models import Action
from ..clock import utcnow
from ..counts.models import ActionDay, DriveCounts, DriveSupporter, MailingCounts
from ..extensions import db
from ..sending.models import Delivery
from ..sequences.models import Drive, Mailing
from ..supporters.models import VisitorAction
from ..tracking.models import Event

EMAILED = ("sent", "bounced")  # accepted by the relay (a bounce comes after)


def recount(drive_ids: list[int]) -> None:
    if not drive_ids:
        return
    mailing_ids = db.select(Mailing.id).where(Mailing.drive_id.in_(drive_ids))
    _delivery_marks(mailing_ids)
    _drive_supporters(drive_ids)
    _mailing_counts(mailing_ids)
    _drive_counts(drive_ids)
    _action_days(drive_ids)
    db.session.commit()


def _delivery_marks(mailing_ids) -> None:
    def first(kind: str, *also):
        return (
            db.select(func.min(Event.created_at))
            .where(Event.delivery_id == Delivery.id, Event.kind == kind, *also)
            .scalar_subquery()
        )

    db.session.execute(
        db.update(Delivery.__table__)
        .where(Delivery.mailing_id.in_(mailing_ids))
        .values(
            opened_at=first("open"),
            opened_human_at=first("open", ~Event.machine),
            clicked_at=first("click", ~Event.machine),
            unsubscribed_at=first("unsubscribe"),
        )
    )


def _drive_supporters(drive_ids: list[int]) -> None:
    db.session.execute(db.delete(DriveSupporter).where(DriveSupporter.drive_id.in_(drive_ids)))
    emailed = when((Delivery.status.in_(EMAILED), func.coalesce(Delivery.sent_at, utcnow())))
    rows = (
        db.select(
            Mailing.drive_id,
            Delivery.supporter_id,
            func.min(emailed),
            func.min(Delivery.opened_at),
            func.min(Delivery.opened_human_at),
            func.min(Delivery.clicked_at),
            func.min(Delivery.unsubscribed_at),
        )
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(Mailing.drive_id.in_(drive_ids))
        .group_by(Mailing.drive_id, Delivery.supporter_id)
    )
    columns = [
        "drive_id",
        "supporter_id",
        "emailed_at",
        "opened_at",
        "opened_human_at",
        "clicked_at",
        "unsubscribed_at",
    ]
    db.session.execute(db.insert(DriveSupporter).from_select(columns, rows))


def _count(model, *where):
    return db.select(func.count()).select_from(model).where(*where).scalar_subquery()


def _mailing_counts(mailing_ids) -> None:
    db.session.execute(db.delete(MailingCounts).where(MailingCounts.mailing_id.in_(mailing_ids)))
    db.session.execute(db.insert(MailingCounts).from_select(["mailing_id"], mailing_ids))
    mine = Delivery.mailing_id == MailingCounts.mailing_id
    acted_from = aliased(Delivery)
    db.session.execute(
        db.update(MailingCounts)
        .where(MailingCounts.mailing_id.in_(mailing_ids))
        .values(
            recipients=_count(Delivery, mine, Delivery.status != "skipped"),
            sent=_count(Delivery, mine, Delivery.status.in_(("sent", "bounced"))),
            failed=_count(Delivery, mine, Delivery.status == "failed"),
            bounced=_count(Delivery, mine, Delivery.status == "bounced"),
            opened=_count(Delivery, mine, Delivery.opened_at.is_not(None)),
            opened_human=_count(Delivery, mine, Delivery.opened_human_at.is_not(None)),
            clicked=_count(Delivery, mine, Delivery.clicked_at.is_not(None)),
            unsubscribed=_count(Delivery, mine, Delivery.unsubscribed_at.is_not(None)),
            acted=db.select(func.count(Action.id))
            .join(acted_from, acted_from.id == Action.delivery_id)
            .where(acted_from.mailing_id == MailingCounts.mailing_id)
            .scalar_subquery(),
        )
    )


def _drive_counts(drive_ids: list[int]) -> None:
    db.session.execute(db.delete(DriveCounts).where(DriveCounts.drive_id.in_(drive_ids)))
    db.session.execute(
        db.insert(DriveCounts).from_select(["drive_id"], db.select(Drive.id).where(Drive.id.in_(drive_ids)))
    )
    mine = DriveSupporter.drive_id == DriveCounts.drive_id

    def emails(column):
        return (
            db.select(func.coalesce(func.sum(column), 0))
            .join(Mailing, Mailing.id == MailingCounts.mailing_id)
            .where(Mailing.drive_id == DriveCounts.drive_id)
            .scalar_subquery()
        )

    drive = aliased(Drive)
    db.session.execute(
        db.update(DriveCounts)
        .where(DriveCounts.drive_id.in_(drive_ids))
        .values(
            recipients=_count(DriveSupporter, mine, DriveSupporter.emailed_at.is_not(None)),
            sent=emails(MailingCounts.sent),
            failed=emails(MailingCounts.failed),
            bounced=emails(MailingCounts.bounced),
            opened=_count(DriveSupporter, mine, DriveSupporter.opened_at.is_not(None)),
            opened_human=_count(DriveSupporter, mine, DriveSupporter.opened_human_at.is_not(None)),
            clicked=_count(DriveSupporter, mine, DriveSupporter.clicked_at.is_not(None)),
            unsubscribed=_count(DriveSupporter, mine, DriveSupporter.unsubscribed_at.is_not(None)),
            acted=db.select(func.count(Action.id))
            .join(drive, and_(drive.case_id == Action.case_id, drive.office_id == Action.office_id))
            .where(drive.id == DriveCounts.drive_id)
            .scalar_subquery()
            + db.select(func.count(VisitorAction.id))  # visitors of the case page, counted as themselves
            .join(drive, and_(drive.case_id == VisitorAction.case_id, drive.office_id == VisitorAction.office_id))
            .where(drive.id == DriveCounts.drive_id, VisitorAction.counted_digest.is_not(None))
            .scalar_subquery(),
        )
    )


def _action_days(drive_ids: list[int]) -> None:
    db.session.execute(db.delete(ActionDay).where(ActionDay.drive_id.in_(drive_ids)))
    day = func.date(Action.created_at)
    rows = (
        db.select(Drive.id.label("drive_id"), day.label("day"), func.count(Action.id).label("n"))
        .join(Drive, and_(Drive.case_id == Action.case_id, Drive.office_id == Action.office_id))
        .where(Drive.id.in_(drive_ids))
        .group_by(Drive.id, day)
    )
    visitors_day = func.date(VisitorAction.confirmed_at)
    visitors = (
        db.select(Drive.id.label("drive_id"), visitors_day.label("day"), func.count(VisitorAction.id).label("n"))
        .join(Drive, and_(Drive.case_id == VisitorAction.case_id, Drive.office_id == VisitorAction.office_id))
        .where(Drive.id.in_(drive_ids), VisitorAction.counted_digest.is_not(None))
        .group_by(Drive.id, visitors_day)
    )
    both = db.union_all(rows, visitors).subquery()
    db.session.execute(
        db.insert(ActionDay).from_select(
            ["drive_id", "day", "actions"],
            db.select(both.c.drive_id, both.c.day, func.sum(both.c.n)).group_by(both.c.drive_id, both.c.day),
        )
    )
