"""gunicorn's settings for the web (the Dockerfile's command): an access log that names no supporter.

Each line keeps the client's network (/24, /48: what the service keeps of an address anywhere), the
method, the path with its token withheld (`/act/<token>`), the status, the size, the time and the agent;
never the query string, the referer, a cookie or credentials. mobilise.logs redacts every other line of
the master and the workers as well. Bind and the number of worker processes stay on the command line.
"""

from gunicorn.glogging import Logger

from mobilise import logs

logs.install()

# Threads in each worker process, not gunicorn's default sync workers. A sync worker is held by one client from
# its connection to its close: a supporter on a slow phone network (or an idle connection) stops that worker for
# everyone, and gunicorn asks for a buffering proxy in front of sync workers, which the Dockerfile's web does not
# have. gthread waits for a request to arrive before a thread takes it, and keeps connections alive between them.
worker_class = "gthread"
threads = 4

accesslog = "-"
access_log_format = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return logs.access_atoms(super().atoms(resp, req, environ, request_time))

    def setup(self, cfg):
        # LOG_FORMAT=json: gunicorn's own lines (its error log, the access lines) as JSON objects too; the
        # app's lines reach the root handler that create_app sets.
        super().setup(cfg)
        if logs.log_format() == "json":
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(logs.RedactedJsonFormatter())


logger_class = AccessLogger


def post_worker_init(worker):
    # Templates, catalogs and the links' SQL compiled before the process takes its first request (mobilise.warm).
    from mobilise.warm import warm_web

    warm_web(worker.wsgi)
