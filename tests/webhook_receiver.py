"""A webhook receiver on loopback: a real HTTP server in a thread that keeps every request it gets, and answers
500 to the next `fail` of them, or to every one while `always_fail`."""

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict  # names lower-cased
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self.fail = 0  # how many of the next requests answer 500
        self.always_fail = False
        self.trickle = False  # answer a header line every half second, never ending the answer (until closed)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server calls it by this name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.trickle:
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                        for n in range(120):  # each line well within any read timeout; the answer never ends
                            self.wfile.write(f"X-Wait-{n}: still thinking\r\n".encode())
                            self.wfile.flush()
                            time.sleep(0.5)
                    except OSError:  # the sender gave up and closed the connection
                        pass
                else:
                    failing = receiver.always_fail or receiver.fail > 0
                    receiver.fail = max(receiver.fail - 1, 0)
                    self.send_response(500 if failing else 204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/mobilise"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def verify(secret: str, request: Received, tolerance: int = 300) -> dict:
    """The Standard Webhooks check a receiver makes, by hand: HMAC-SHA256 keyed by the base64-decoded secret after
    `whsec_`, over `id.timestamp.body`, in base64 after `v1,`; and a timestamp within `tolerance` seconds of now."""
    message_id, timestamp = request.headers["webhook-id"], request.headers["webhook-timestamp"]
    assert abs(time.time() - int(timestamp)) <= tolerance
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{message_id}.{timestamp}.".encode() + request.body, hashlib.sha256).digest()
    ).decode()
    signatures = [
        part.split(",", 1)[1] for part in request.headers["webhook-signature"].split(" ") if part.startswith("v1,")
    ]
    assert any(hmac.compare_digest(expected, s) for s in signatures), "the signature does not verify"
    return request.json()


def links_of(relay, email: str) -> dict:
    """The action and unsubscribe links of the latest email `email` received."""
    import re

    message = [m for m in relay.messages() if m["To"] == email][-1]
    html = message.get_body(("html",)).get_content()
    return {
        kind: re.search(rf'href="http://mobilise\.test(/{kind}/[^"]+)"', html).group(1)
        for kind in ("act", "unsubscribe")
    }
