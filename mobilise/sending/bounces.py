"""A relay's or a provider's reports of bounces and spam complaints: the mail to that person stops."""

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from ..clock import utcnow
from ..counts.service import count_bounce
from ..errors import NotFound
from ..extensions import db
from ..outbound.outbox import emit
from ..supporters.consent import record_change
from ..supporters.models import Bounce, Supporter
from ..validation import EmailAddress, Strict, parse
from . import delivery_state, guard_rails
from .models import Delivery

SOFT_LIMIT = 3  # soft bounces within SOFT_WINDOW stop the mail like a hard one
SOFT_WINDOW = timedelta(days=30)
MESSAGE_ID = re.compile(r"<?delivery\.(\d+)@[^>\s]+>?")  # what the composer writes: <delivery.ID@domain>
MAILABLE = ("subscribed", "pending")


class BounceIn(Strict):
    message_id: str | None = Field(default=None, max_length=500)
    email: EmailAddress | None = None
    type: Literal["hard", "soft", "complaint"]
    detail: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _one_of(self):
        if (self.message_id is None) == (self.email is None):
            raise ValueError("give either message_id or email")
        return self


def delivery_by_message_id(message_id: str) -> Delivery | None:
    """The email this service sent with that Message-ID (with or without its angle brackets), if any."""
    match = MESSAGE_ID.fullmatch(message_id.strip())
    return db.session.get(Delivery, int(match.group(1))) if match else None


def supporters_with(email: str) -> list[Supporter]:
    """That address in every office."""
    return list(db.session.scalars(db.select(Supporter).where(Supporter.email == email.strip().lower())))


def report_bounce(data) -> dict:
    """`POST /api/v1/events/bounces`. By message_id: the supporter that email went to (and the email counts as
    bounced, if hard). By email: that address in every office."""
    report = parse(BounceIn, data)
    delivery = None
    if report.message_id is not None:
        delivery = delivery_by_message_id(report.message_id)
        if delivery is None:
            raise NotFound("no email with that Message-ID was sent by this service")
        supporters = [delivery.supporter]
    else:
        supporters = supporters_with(report.email)
        if not supporters:
            raise NotFound("no supporter has that address")
    stopped = record_bounce(report.type, supporters, delivery, report.detail, source="api")
    db.session.commit()
    return {"supporters": len(supporters), "stopped": stopped}


def record_bounce(
    kind: str, supporters: list[Supporter], delivery: Delivery | None, detail: str | None, *, source: str
) -> int:
    """The one rule for every report (the API, inbound mail, a provider's webhook): note it, and stop the mail on
    a hard bounce, a complaint, or the SOFT_LIMIT-th soft bounce. A hard bounce of an email the relay had
    accepted counts it as bounced. Then the mailing's guard rails look again. Returns how many supporters it
    stopped; the caller commits."""
    mailing_id = delivery.mailing_id if delivery is not None else None
    stopped = 0
    for supporter in supporters:
        db.session.add(
            Bounce(
                supporter_id=supporter.id,
                delivery_id=delivery.id if delivery else None,
                mailing_id=mailing_id,
                kind=kind,
                detail=detail and detail[:2000],
                source=source,
            )
        )
        db.session.flush()  # counted by the soft-bounce rule and the guard rails below
        if supporter.status in MAILABLE and _stops_mail(supporter, kind):
            change = "complained" if kind == "complaint" else "bounced"
            # As staff read it in the history and the suppression list: "relay report: hard", "ses report: complaint".
            record_change(supporter, change, f"{'relay' if source == 'api' else source} report: {kind}")
            emit(supporter.office_id, f"supporter.{change}", supporter.email, mailing_id=mailing_id)
            stopped += 1
    if delivery is not None and kind == "hard" and delivery_state.bounce(delivery.id):
        count_bounce(delivery.mailing_id)
    if mailing_id is not None and kind != "soft":
        guard_rails.check(mailing_id)
    return stopped


def record_refusals(refusals: list[tuple[int, int, str]], mailing_id: int) -> None:
    """The relay refused these addresses for good when they were sent to (a 5xx to RCPT TO), as
    (delivery id, supporter id, its reply): a hard bounce each, so no later email tries them again. Then the
    mailing's guard rails look again (a pause they make is the caller's to commit)."""
    ids = {supporter_id for _, supporter_id, _ in refusals}
    supporters = {s.id: s for s in db.session.scalars(db.select(Supporter).where(Supporter.id.in_(ids)))}
    for delivery_id, supporter_id, reply in refusals:
        db.session.add(
            Bounce(
                supporter_id=supporter_id,
                delivery_id=delivery_id,
                mailing_id=mailing_id,
                kind="hard",
                detail=reply[:2000],
                source="relay",
            )
        )
        supporter = supporters[supporter_id]
        if supporter.status in MAILABLE:
            record_change(supporter, "bounced", f"relay refused the address: {reply}")
            emit(supporter.office_id, "supporter.bounced", supporter.email, mailing_id=mailing_id)
    db.session.flush()
    guard_rails.check(mailing_id)


def _stops_mail(supporter: Supporter, kind: str) -> bool:
    if kind != "soft":
        return True
    recent = db.session.scalar(
        db.select(db.func.count(Bounce.id)).where(
            Bounce.supporter_id == supporter.id, Bounce.kind == "soft", Bounce.created_at >= utcnow() - SOFT_WINDOW
        )
    )
    return recent >= SOFT_LIMIT
