"""An office's suppression list: everyone it must not mail, and why, as a CSV written a batch at a time.

A supporter is on it while unsubscribed, bounced or complained; `since` is when their status last changed and
`reason` the source of their latest stopping step in the consent history (an unsubscribe link, a relay's report).
An erased supporter is left out: their address is gone, so there is nothing left to match a list against.
"""

import csv
import io
from collections.abc import Iterator

from flask import Response, stream_with_context

from ..audit.service import record
from ..clock import iso, utcnow
from ..extensions import db
from ..offices.models import Office
from ..supporters.models import ConsentChange, Supporter

SUPPRESSED = ("unsubscribed", "bounced", "complained")
STOPPING = ("withdrawn", "bounced", "complained")
COLUMNS = ("email", "status", "since", "reason")
BATCH = 5000  # rows per query: a long list never sits in memory whole, nor holds one cursor open


def suppressed(office_id: int) -> Iterator[tuple]:
    """(email, status, since, reason) of each supporter suppressed, oldest id first, read by keyset batches."""
    reason = (
        db.select(ConsentChange.source)
        .where(ConsentChange.supporter_id == Supporter.id, ConsentChange.change.in_(STOPPING))
        .order_by(ConsentChange.at.desc(), ConsentChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    after = 0
    while True:
        rows = db.session.execute(
            db.select(Supporter.id, Supporter.email, Supporter.status, Supporter.status_changed_at, reason)
            .where(
                Supporter.office_id == office_id,
                Supporter.status.in_(SUPPRESSED),
                Supporter.email.is_not(None),
                Supporter.id > after,
            )
            .order_by(Supporter.id)
            .limit(BATCH)
        ).all()
        for _, email, status, since, why in rows:
            yield email, status, iso(since), why or ""
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


def suppression_csv(office_id: int) -> Iterator[str]:
    """The CSV's text in chunks, the header first: a response can send each as it comes.

    It takes the office's id, not the office: it runs after the view has returned, in a session of its own, where
    the view's objects are detached."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for n, row in enumerate(suppressed(office_id), 1):
        writer.writerow(row)
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def suppression_download(office: Office) -> Response:
    """The list as a CSV download, streamed: the API's and the console's answer alike."""
    filename = f"suppressions-{office.code}-{utcnow():%Y-%m-%d}.csv"
    # A list of addresses leaves the service: recorded (and committed, for reading writes nothing) before it streams.
    office_id = office.id
    record("suppressions.exported", subject=f"office {office.code}", office=office)
    db.session.commit()
    return Response(
        stream_with_context(suppression_csv(office_id)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
