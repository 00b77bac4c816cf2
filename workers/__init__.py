"""RQ job entry points: a few lines each, ids in, a service call out.

Under `flask --app app worker` the app context is already pushed (and inherited by each
forked job process). Under a bare `rq worker`, `in_app_context` makes one.
"""

import functools

from flask import has_app_context

_app = None


def in_app_context(job):
    @functools.wraps(job)
    def run(*args, **kwargs):
        global _app
        if has_app_context():
            return job(*args, **kwargs)
        if _app is None:
            from mobilise import create_app

            _app = create_app()
        with _app.app_context():
            return job(*args, **kwargs)

    return run
