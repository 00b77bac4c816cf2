"""gunicorn's settings for the web (the Dockerfile's command): an access log that names no supporter.

Each line keeps the client's network (/24, /48: what the service keeps of an address anywhere), the
method, the path with its token withheld (`/act/<token>`), the status, the size, the time and the agent;
never the query string, the referer, a cookie or credentials. mobilise.logs redacts every other line of
the master and the workers as well. Bind and workers stay on the command line.
"""
from gunicorn.glogging import Logger

from mobilise import logs

logs.install()

accesslog = "-"
access_log_format = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return logs.access_atoms(super().atoms(resp, req, environ, request_time))


logger_class = AccessLogger
