"""Counters per mailing and per drive, and the marks that keep them counting distinct supporters.

A delivery is one supporter and one mailing, so a mailing's counts are of flags on its deliveries
(`Delivery.opened_at`, ...). An office's counts are of supporters across all the drive's emails:
`DriveSupporter` holds the first time each did each thing, so a second open of another email of
the same drive does not count them twice. Each counter moves in the transaction that flips its mark.
"""

from datetime import date, datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

COUNTS = ("recipients", "sent", "failed", "bounced", "opened", "opened_human", "clicked", "acted", "unsubscribed")


class Counts:
    """The numbers of the stats API, as columns."""

    recipients: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    bounced: Mapped[int] = mapped_column(default=0)
    opened: Mapped[int] = mapped_column(default=0)
    opened_human: Mapped[int] = mapped_column(default=0)
    clicked: Mapped[int] = mapped_column(default=0)
    acted: Mapped[int] = mapped_column(default=0)
    unsubscribed: Mapped[int] = mapped_column(default=0)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in COUNTS}


class MailingCounts(Counts, db.Model):
    """recipients: deliveries not skipped; sent/failed/bounced: emails; the rest: deliveries flagged."""

    __tablename__ = "mailing_counts"

    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id"), primary_key=True)


class DriveCounts(Counts, db.Model):
    """recipients: supporters sent at least one email; sent/failed/bounced: emails; the rest: distinct supporters."""

    __tablename__ = "drive_counts"

    drive_id: Mapped[int] = mapped_column(ForeignKey("drives.id"), primary_key=True)


class DriveSupporter(db.Model):
    """When one supporter was first emailed, opened, clicked, unsubscribed, in one drive."""

    __tablename__ = "drive_supporters"

    drive_id: Mapped[int] = mapped_column(ForeignKey("drives.id"), primary_key=True)
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id"), primary_key=True)
    emailed_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    opened_human_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]


class ActionDay(db.Model):
    """Actions per drive per day (UTC), for the chart."""

    __tablename__ = "action_days"

    drive_id: Mapped[int] = mapped_column(ForeignKey("drives.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    actions: Mapped[int] = mapped_column(default=0)
