"""The tokens in emails: made fast, read by itsdangerous, and the same as itsdangerous would make them."""

import random

import pytest

from mobilise import create_app
from mobilise.tokens import PURPOSES, _serializer, make_token, read_token


@pytest.fixture
def context():
    with create_app({"SECRET_KEY": "a secret for tokens"}).app_context():
        yield


def test_a_token_is_exactly_what_itsdangerous_makes_and_reads_back(context):
    chance = random.Random(7)
    # Short and long ids, and ones that compress (itsdangerous then zlibs the payload and marks it with a dot).
    cases = [(0,), (1,), (2**31,), (10**18,), (1111111111111111111,), (1000000, 1000000), (123456, 7)]
    cases += [
        tuple(chance.randrange(10 ** chance.randrange(1, 19)) for _ in range(chance.choice((1, 2)))) for _ in range(500)
    ]
    compressed = 0
    for purpose in PURPOSES:
        for ids in cases:
            token = make_token(purpose, *ids)
            assert token == _serializer(purpose).dumps(list(ids))
            assert read_token(purpose, token, arity=len(ids)) == list(ids)
            compressed += token.startswith(".")
    assert compressed  # the zlib branch was taken too


def test_a_token_of_one_purpose_does_not_read_as_another(context):
    assert read_token("unsubscribe", make_token("open", 5)) is None
    for _ in range(2):  # the second time too: a refused purpose is never remembered as a key
        with pytest.raises(ValueError):
            make_token("delete", 5)
        with pytest.raises(ValueError):
            read_token("delete", make_token("open", 5))


def _itsdangerous_reads(purpose: str, token: str, arity: int):
    """What itsdangerous's own loads makes of `token`, held to read_token's rule on the ids."""
    from itsdangerous import BadData

    try:
        ids = _serializer(purpose).loads(token)
    except (BadData, ValueError, UnicodeError):
        return None
    if not isinstance(ids, list) or len(ids) != arity or not all(type(i) is int for i in ids):
        return None
    return ids


def test_a_tampered_token_reads_as_nothing_exactly_where_itsdangerous_refuses_it(context):
    chance = random.Random(11)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.é"
    tokens = [make_token("open", chance.randrange(10**9)) for _ in range(200)]
    tokens += [make_token("click", chance.randrange(10**12), 7) for _ in range(100)]
    # Signed rightly but holding what make_token never writes: another shape, text, floats, a nested list.
    odd = [{"id": 5}, "5", [5.0], [[5]], [True], [5, 6, 7], []]
    signed_odd = [_serializer("open").dumps(value) for value in odd]
    mangled = []
    for token in tokens:
        at = chance.randrange(len(token))
        mangled += [
            token[:at] + chance.choice(alphabet) + token[at + 1 :],  # one character changed
            token[:at] + token[at + 1 :],  # one dropped
            token[:at],  # cut short
            token + chance.choice(alphabet),
            token.replace(".", "", 1),
        ]
    refused = 0
    for token in tokens + signed_odd + mangled + ["", ".", "..", "a.b", "é.é", "." * 40]:
        for purpose, arity in (("open", 1), ("click", 2)):
            # Stricter than itsdangerous on one point: a character outside the tokens' own (which its base64
            # decoding skips) makes it no token of ours.
            expected = _itsdangerous_reads(purpose, token, arity) if token.isascii() else None
            assert read_token(purpose, token, arity=arity) == expected, token
            refused += expected is None
    assert refused > len(mangled)  # the mangled ones were refused (a changed character may still decode alike)
    assert all(read_token("open", token) is None for token in signed_odd)
