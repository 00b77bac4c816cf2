"""Headers every response carries, those of the pages behind a personal link, and what CSRF protection leaves alone."""

from flask import Flask, request

# Everything the pages use is served by the app itself: no other site may be loaded or frame us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# An email preview is the email's own HTML (inline styles), shown sandboxed inside the console.
EMAIL_PREVIEW_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
)
# The pages behind a personal link (an email's, a sign-up's): kept by no cache, and the link sent on to no other site.
NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault(
        "X-Frame-Options",
        "SAMEORIGIN" if "frame-ancestors 'self'" in response.headers["Content-Security-Policy"] else "DENY",
    )
    response.headers.setdefault(
        "Referrer-Policy",
        "no-referrer" if request.path.startswith(("/act/", "/unsubscribe/", "/c/", "/o/")) else "same-origin",
    )
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    app.after_request(security_headers)
