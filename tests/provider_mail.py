"""What the provider webhook tests share: a real mailing sent through the relay with a provider set up, and what
the supporters, the counts and the next mailing then say."""

import json
from email.message import EmailMessage

from mobilise.extensions import db
from mobilise.models import Supporter
from mobilise.sequences.dispatch import start_drive
from mobilise.sequences.lifecycle import apply_change

from .builders import bearer, make_case, make_office, make_supporters, token_for

# Two supporters get the launch; the events are about the first, the second is the control.
FIRST, SECOND = "person0@gb.example.net", "person1@gb.example.net"
STRANGER = "never-mailed@example.com"


class Drive:
    """A GB launch to FIRST and SECOND, sent through the relay with the provider's settings in `config`."""

    def __init__(self, app, client, relay, run_jobs, config: dict):
        app.config.update(config)
        self.client, self.relay, self.run_jobs = client, relay, run_jobs
        office = make_office()
        make_supporters(office, 2)
        self.case = make_case()
        start_drive(self.case, office, {"office": "GB"})
        run_jobs()
        self.admin = token_for("admin@example.org", admin=True)
        assert self.stats()["sent"] == 2

    def email_to(self, address: str) -> EmailMessage:
        return next(m for m in self.relay.messages() if m["To"] == address)

    def message_id(self, address: str = FIRST) -> str:
        return self.email_to(address)["Message-ID"]

    def header_json(self, name: str, address: str = FIRST) -> dict:
        """A provider header the service attached, read off the email the relay received."""
        return json.loads(self.email_to(address)[name])

    def stats(self) -> dict:
        """The launch mailing's counts, as `GET /api/v1/cases/ID/stats` shows them."""
        answer = self.client.get(f"/api/v1/cases/{self.case.id}/stats", headers=bearer(self.admin))
        assert answer.status_code == 200
        (launch,) = [m for m in answer.json["mailings"] if m["stage"] == "launch"]
        return launch

    def statuses(self) -> dict[str, str]:
        db.session.expire_all()
        return dict(db.session.execute(db.select(Supporter.email, Supporter.status)).all())

    def next_mailing_recipients(self) -> list[str]:
        """Who an update, sent now to everyone in the drive, reaches."""
        self.relay.received.clear()
        apply_change(self.case, {"kind": "update", "body": "Eduardo Torres was moved to another prison."})
        self.run_jobs()
        return self.relay.recipients()

    def snapshot(self) -> tuple:
        """Everything an event could change: the supporters' statuses and the launch's counts."""
        stats = self.stats()
        return self.statuses(), {key: stats[key] for key in ("sent", "bounced", "unsubscribed", "failed")}
