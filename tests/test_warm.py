"""A web process warmed as gunicorn starts it: its first visitor after a launch waits no longer than the next."""

from sqlalchemy.engine.interfaces import CacheStats

from mobilise.warm import warm_web

from .test_tracking import french_readers_act_link, statements_run


def test_the_first_action_page_of_a_warmed_process_compiles_no_template_and_no_query(app, client, relay, run_jobs):
    act = french_readers_act_link(relay, run_jobs, "fr")
    warm_web(app)
    templates = len(app.jinja_env.cache)
    with statements_run() as run:
        page = client.get(act)
    assert page.status_code == 200 and '<html lang="fr">' in page.get_data(as_text=True)
    assert len(app.jinja_env.cache) == templates  # every template it rendered was compiled already
    assert [statement for statement, context in run if context.cache_hit is not CacheStats.CACHE_HIT] == []
