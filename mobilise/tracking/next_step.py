"""What the thanks page offers once a supporter has acted: how many from the office acted, and the next case."""

from dataclasses import dataclass

from ..cases.models import Action, Case
from ..clock import days_left, is_open
from ..counts.models import DriveCounts
from ..extensions import db
from ..languages import reading_language
from ..offices.models import Office
from ..sending.models import Delivery
from ..sequences.models import Drive, Mailing
from ..supporters.models import Supporter
from ..tokens import make_token

# The office's live drives looked at for a next case: the soonest deadlines first.
LOOK_AHEAD = 20


def office_count(drive_id: int) -> int:
    """The people from the drive's office who acted on its case: the counter kept beside each action, one row read."""
    return db.session.scalar(db.select(DriveCounts.acted).where(DriveCounts.drive_id == drive_id)) or 0


@dataclass(frozen=True)
class NextCase:
    title: str
    language: str
    days_left: int
    path: str  # the supporter's own action page when an email of that case reached them, else its public page


def next_case(supporter: Supporter, office: Office, after: Case) -> NextCase | None:
    """The live case of the office with the soonest deadline that `supporter` has not acted on, other than `after`."""
    acted = db.select(Action.case_id).where(Action.supporter_id == supporter.id)
    drives = db.session.execute(
        db.select(Drive, Case)
        .join(Case, Case.id == Drive.case_id)
        .where(Drive.office_id == office.id, Case.status == "live", Case.id != after.id, Case.id.not_in(acted))
        .order_by(Drive.deadline, Drive.id)
        .limit(LOOK_AHEAD)
    ).all()
    for drive, case in drives:
        if not is_open(drive.deadline, office.timezone):
            continue
        language = reading_language([supporter.language, office.language, "en"], case.languages(), case.language)
        return NextCase(
            case.content(language)["title"],
            language,
            days_left(drive.deadline, office.timezone),
            _path(supporter, drive, case, language),
        )
    return None


def _path(supporter: Supporter, drive: Drive, case: Case, language: str) -> str:
    delivery_id = db.session.scalar(
        db.select(Delivery.id)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(Mailing.drive_id == drive.id, Delivery.supporter_id == supporter.id)
        .order_by(Delivery.id.desc())
        .limit(1)
    )
    if delivery_id is not None:
        return f"/act/{make_token('act', delivery_id)}"
    return f"/cases/{case.slug}?office={drive.office.code}&lang={language}"
