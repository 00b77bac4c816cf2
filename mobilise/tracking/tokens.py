"""Opaque, signed tokens for the links in emails.

A token carries only row ids (never an address or a name) and is signed with SECRET_KEY
under a salt per purpose, so an open token cannot be replayed as an unsubscribe token.
Its characters are A–Z a–z 0–9 - _ . only.
"""
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

PURPOSES = ("open", "click", "act", "unsubscribe", "confirm")


def _serializer(purpose: str) -> URLSafeSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return _cached_serializer(current_app.config["SECRET_KEY"], purpose)


@lru_cache(maxsize=32)
def _cached_serializer(secret: str, purpose: str) -> URLSafeSerializer:
    # Made once per key and purpose: building one derives its signing key, on every pixel otherwise.
    return URLSafeSerializer(secret, salt=f"mobilise.{purpose}")


def make_token(purpose: str, *ids: int) -> str:
    return _serializer(purpose).dumps(list(ids))


def read_token(purpose: str, token: str, arity: int = 1) -> list[int] | None:
    """The ids in `token`, or None when it is tampered, of another purpose, or malformed."""
    try:
        ids = _serializer(purpose).loads(token)
    except (BadSignature, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(ids, list) or len(ids) != arity or not all(type(i) is int for i in ids):
        return None
    return ids
