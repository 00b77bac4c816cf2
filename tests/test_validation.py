"""Addresses: the short way for common addresses answers exactly as email-validator's long way."""

import pytest

from mobilise.validation import _validated, normalise_email

ADDRESSES = [
    "Person1@Example.org",
    " ana.garcia+ua@example.org ",
    "o'brien@example.ie",
    "a@b.co",
    "x_y-z!#$%&*=?^`{|}~@mail.example.com",
    "ana@EXAMPLE.ORG",
    "Postmaster@example.org",
    "ana@xn--bcher-kva.example",
    "ana@bücher.example",
    "Rocío@example.es",
    "broken.example.org",
    "ana@",
    "@example.org",
    "ana..b@example.org",
    ".ana@example.org",
    "ana.@example.org",
    "ana@example",
    "ana@localhost",
    "ana@example.invalid",
    "ana@-example.org",
    "ana@exa_mple.org",
    "ana@example..org",
    "ana@[127.0.0.1]",
    '"ana b"@example.org',
    "Ana <ana@example.org>",
    "ana@example.org>",
    "ana b@example.org",
    "a@b@example.org",
    "a" * 64 + "@example.org",
    "a" * 65 + "@example.org",
    "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "." + "e" * 60 + ".org",
    "ana@" + "b" * 64 + ".org",
    "ana@123.org",
    "ana@example.123",
]


def long_way(value):
    try:
        return _validated(value.strip())
    except ValueError as error:
        return ("rejected", str(error))


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_short_way_answers_as_email_validator_does(address):
    try:
        short = normalise_email(address)
    except ValueError as error:
        short = ("rejected", str(error))
    assert short == long_way(address)
    # the domain is in the cache now: the second answer is the same
    try:
        again = normalise_email(address)
    except ValueError as error:
        again = ("rejected", str(error))
    assert again == short
