"""The service's app plus one bare endpoint that answers the same GIF, for bench/tracking.py.

Served by the same gunicorn as the real pixel, so the two differ only in the recording.
"""

from mobilise import create_app
from mobilise.security import NO_STORE
from mobilise.tracking.views import PIXEL

app = create_app()


@app.get("/bare.gif")
def bare_pixel():
    return PIXEL, 200, {"Content-Type": "image/gif", **NO_STORE}
