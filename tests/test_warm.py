"""A web process warmed as gunicorn starts it: its first visitor after a launch waits no longer than the next."""

import re

from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

from mobilise.extensions import db
from mobilise.sequences.dispatch import start_drive
from mobilise.warm import warm_web

from .builders import make_case, make_office, make_supporters, translated


def test_the_first_action_page_of_a_warmed_process_compiles_no_template_and_no_query(app, client, relay, run_jobs):
    office = make_office()
    make_supporters(office, 1, language="fr")
    start_drive(make_case(translations=translated("fr")), office, {"office": "GB"})
    run_jobs()
    html = relay.messages()[0].get_body(("html",)).get_content()
    act = re.search(r'href="http://mobilise\.test(/act/[^"]+)"', html).group(1)
    db.session.expunge_all()  # as a fresh process: nothing of the email loaded

    warm_web(app)
    templates = len(app.jinja_env.cache)
    compiled = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if context.cache_hit is not CacheStats.CACHE_HIT:
            compiled.append(statement)

    event.listen(db.engine, "after_cursor_execute", listener)
    try:
        page = client.get(act)
    finally:
        event.remove(db.engine, "after_cursor_execute", listener)
    assert page.status_code == 200 and '<html lang="fr">' in page.get_data(as_text=True)
    assert len(app.jinja_env.cache) == templates  # every template it rendered was compiled already
    assert compiled == []  # and every query it made
