"""Errors a service raises for the caller to show: the API answers them as JSON 4xx."""


class ServiceError(Exception):
    status = 422

    def __init__(self, message: str, details=None):
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(ServiceError):
    status = 400


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
