"""The service's app plus two endpoints that answer the same GIF, for bench/tracking.py: a bare one, and one that
checks the pixel's token as the pixel does but records nothing.

Served by the same gunicorn as the real pixel, so the three differ only in the token check and the recording.
"""

from flask import abort

from mobilise import create_app
from mobilise.security import NO_STORE
from mobilise.tokens import read_token
from mobilise.tracking.views import PIXEL

app = create_app()


@app.get("/bare.gif")
def bare_pixel():
    return PIXEL, 200, {"Content-Type": "image/gif", **NO_STORE}


@app.get("/checked/<token>.gif")
def checked_pixel(token: str):
    if read_token("open", token) is None:
        abort(404)
    return PIXEL, 200, {"Content-Type": "image/gif", **NO_STORE}
