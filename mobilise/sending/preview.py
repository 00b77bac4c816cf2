"""What a stage's email will look like, before anything is sent: a preview, and a test email to oneself."""

import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import make_msgid

from pydantic import Field

from ..cases.models import Case
from ..errors import Invalid, Unavailable
from ..extensions import db
from ..offices.models import Office
from ..sequences.models import STAGES, Drive, Mailing
from ..validation import Language, LongText, Strict, parse, text
from .composer import Composer
from .message import Unsendable
from .relays import relay_for

STAGE_AUDIENCE = {
    "launch": "all",
    "update": "all",
    "extension": "not_acted",
    "reminder": "not_acted",
    "outcome": "acted",
}


class PreviewIn(Strict):
    stage: str = Field(default="launch", pattern="^(" + "|".join(STAGES) + ")$")
    language: Language | None = None
    body: LongText | None = None
    first_name: text(200) = "Alex"


@dataclass
class UnsavedMailing:
    """What the composer reads of a mailing, for one that is only previewed (never a row)."""

    stage: str
    audience: str
    body: str | None
    drive: Drive
    id: int | None = None
    send_at: datetime | None = None  # not planned: composed as of now
    body_translations: dict[str, str] = field(default_factory=dict)

    # The staff's words in a language, as a saved mailing reads them.
    body_in = Mailing.body_in
    readable_in = Mailing.readable_in


def _unsaved_mailing(case: Case, office: Office, fields: PreviewIn) -> UnsavedMailing:
    """On the office's drive if it has one, else on the drive a launch would make (not saved either)."""
    drive = db.session.scalar(db.select(Drive).where(Drive.case_id == case.id, Drive.office_id == office.id))
    if drive is None:
        drive = Drive(deadline=case.deadline, tags=[], own_deadline=False)
        drive.case, drive.office = case, office
    # Staff previewing a language write their words in it: the preview's body is taken as theirs in that language.
    words = {fields.language: fields.body} if fields.body and fields.language else {}
    return UnsavedMailing(fields.stage, STAGE_AUDIENCE[fields.stage], fields.body, drive, body_translations=words)


def preview(case: Case, office: Office, data: dict) -> dict:
    fields = parse(PreviewIn, data)
    composer = Composer(_unsaved_mailing(case, office, fields), preview=True)
    message = composer.message(0, email="preview@example.org", first_name=fields.first_name, language=fields.language)
    language = composer.language_for(fields.language)
    return {
        "stage": fields.stage,
        "audience": STAGE_AUDIENCE[fields.stage],
        "language": language,
        "subject": message.subject,
        "text": message.body,
        "html": message.html,
    }


def send_test_email(case: Case, office: Office, data: dict, to: str) -> dict:
    """Send the previewed email to `to` (the staff member asking), marked as a test, by the office's relay as
    its mailings go (an address that is not ASCII, say, goes or fails as theirs would)."""
    fields = parse(PreviewIn, data)
    composer = Composer(_unsaved_mailing(case, office, fields), preview=True)
    message = composer.message(0, email=to, first_name=fields.first_name, language=fields.language)
    message.subject = f"[TEST] {message.subject}"
    message.msgId = make_msgid("test", domain=composer.domain)
    try:
        with relay_for(office.code).connect() as connection:
            connection.send(message)
    except Unsendable as error:
        raise Invalid(f"the test email cannot be sent: {error}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise Unavailable(
            f"the mail relay did not take the test email ({type(error).__name__}); try again later"
        ) from None
    return {"sent_to": to, "subject": message.subject}
