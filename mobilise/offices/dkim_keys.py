"""An office's DKIM key: checked when it is set, and the TXT record IT publishes for it.

The key is a PEM private key (RSA of at least 1024 bits, or Ed25519) kept on the office's row. It is
checked whole (OpenSSL's RSA consistency check included) once, when it is set; each later load skips that
check, which costs far more than the load itself. No message here quotes the key.
"""

import base64
from functools import lru_cache

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

MIN_RSA_BITS = 1024
MAX_RSA_BITS = 4096  # the largest receivers must verify (RFC 8301); a larger one costs more and proves no more
KEY_LENGTH = 16_000  # characters: an RSA-4096 PEM is about 3,300
SELECTOR_LENGTH = 63

DkimKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def checked_private_key(pem: str) -> str:
    """`pem` as it is if it holds a key an office can sign with; ValueError saying what it lacks otherwise."""
    if "-----BEGIN" not in pem:
        raise ValueError("must be a private key in PEM (-----BEGIN PRIVATE KEY----- …)")
    try:
        key = load_pem_private_key(pem.encode("ascii"), password=None)
    except TypeError:
        raise ValueError("must not be encrypted with a password") from None
    except (ValueError, UnicodeError, UnsupportedAlgorithm):
        raise ValueError("is not a private key that can be read (PEM, RSA or Ed25519, unencrypted)") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            raise ValueError(f"an RSA key must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits, not {key.key_size}")
    elif not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("must be an RSA or Ed25519 key")
    return pem.strip() + "\n"


def checked_selector(selector: str) -> str:
    """A selector is a DNS name under `_domainkey`: labels of letters, digits and hyphens, joined by dots."""
    labels = selector.split(".")
    if not all(
        label
        and label.isascii()
        and label.replace("-", "").isalnum()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    ):
        raise ValueError("must be letters, digits and hyphens (dots between parts), e.g. mobilise2026")
    return selector.lower()


@lru_cache(maxsize=64)
def load_key(pem: str) -> DkimKey:
    """The key object of a PEM already checked (`checked_private_key`), loaded once per process."""
    return load_pem_private_key(pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True)


def algorithm(key: DkimKey) -> str:
    """The DKIM `k=` tag of the key: `rsa` or `ed25519`."""
    return "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "rsa"


def public_value(pem: str) -> str:
    """The `p=` of the key's DNS record: the public key in base64 (RFC 6376; RFC 8463 for Ed25519's raw 32 bytes)."""
    public = load_key(pem).public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    else:
        raw = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(raw).decode("ascii")


def dns_record(pem: str) -> str:
    """The TXT record to publish at SELECTOR._domainkey.DOMAIN."""
    return f"v=DKIM1; k={algorithm(load_key(pem))}; p={public_value(pem)}"


def record_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"
