"""A web process warmed as gunicorn starts it: its first visitor after a launch waits no longer than the next."""

from sqlalchemy.engine.interfaces import CacheStats

from mobilise.warm import warm_web

from .test_tracking import french_readers_act_link, statements_run


def test_the_first_action_page_of_a_warmed_process_compiles_no_template_and_no_query(app, client, relay, run_jobs):
    act = french_readers_act_link(relay, run_jobs, "fr")
    warm_web(app).join()
    templates = len(app.jinja_env.cache)
    with statements_run() as run:
        page = client.get(act)
    assert page.status_code == 200 and '<html lang="fr">' in page.get_data(as_text=True)
    assert len(app.jinja_env.cache) == templates  # every template it rendered was compiled already
    assert [statement for statement, context in run if context.cache_hit is not CacheStats.CACHE_HIT] == []


def test_a_web_process_starts_at_once_when_the_database_does_not_answer(relay):
    """A database that takes the connection and never answers (a stalled host) must not hold up the start."""
    import socket
    import time

    from mobilise import create_app

    from .conftest import test_config

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/test"
    try:
        app = create_app({**test_config(url, relay), "SQLALCHEMY_DATABASE_URI": url})
        started = time.monotonic()
        compiling = warm_web(app)
        assert time.monotonic() - started < 10  # templates and catalogs only: the SQL waits in its own thread
        assert compiling.is_alive()  # still waiting on the database
        assert app.jinja_env.get_template("pages/act.html") is not None
    finally:
        silent.close()
    compiling.join(timeout=30)
