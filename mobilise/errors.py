"""Errors a service raises for the caller to show: the API answers them as JSON 4xx, a page as its error page."""

from werkzeug.exceptions import Gone


class ServiceError(Exception):
    status = 422

    def __init__(self, message: str, details=None):
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    """Credentials missing or wrong (a webhook's signature, its basic auth)."""

    status = 401


class Forbidden(ServiceError):
    status = 403


class Invalid(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Unavailable(ServiceError):
    status = 503


def pydantic_details(error) -> list[dict]:
    """A pydantic ValidationError as [{"field", "error"}], the shape every 422 uses."""
    return [
        {"field": ".".join(str(p) for p in item["loc"]) or None, "error": item["msg"]}
        for item in error.errors(include_url=False, include_context=False, include_input=False)
    ]


class LinkGone(Gone):
    """A link that was good once and no longer does anything: 410 on the service's error page.

    A view raises it for a link whose signature is good but whose purpose has lapsed (a sign-up confirmation that
    expired or was superseded by a newer one). `reason` says why and what to do; `again` is `(url, label)`, the way
    to start over. Give both as `lazy_gettext` texts: they are worded when the page renders, in `language` (the
    reader's, when the link knows it), else the browser's; `office` brands the page and lists its live cases.
    """

    def __init__(self, reason, *, office=None, language: str | None = None, again: tuple | None = None):
        super().__init__()
        self.reason, self.office, self.language, self.again = reason, office, language, again
