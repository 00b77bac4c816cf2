"""The Standard Webhooks signature (https://www.standardwebhooks.com): the receiver recomputes it to know the
event is ours and unchanged, and rejects an old timestamp to stop a replay."""

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64 of HMAC-SHA256, keyed by the secret's bytes (the base64 after `whsec_`), over
    `id.timestamp.body`."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
