"""Where a webhook may go: the service must not be made to POST into its own network (SSRF).

Unless WEBHOOK_ALLOW_PRIVATE is set (development, tests), a receiver's URL is https and its host is, and resolves
only to, public addresses. Registration checks the name; each attempt resolves it again (a DNS answer can
change, or be made to) and connects to the very address it checked, never to a second answer.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

MAX_URL = 2000


class Unsafe(Exception):
    """A URL the service will not POST to; the message says why, naming no more than the host."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL: the Host header and the TLS name
    port: int
    path: str  # with its query
    address: str  # the checked address to connect to


def allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


# IPv6 ranges that carry an IPv4 address a gateway may reach on the service's behalf (NAT64, 6to4, Teredo, the
# old IPv4-compatible form): refused whole, whatever the IPv4 inside, rather than trusted to unwrap correctly.
CARRIES_IPV4 = tuple(
    ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::/96")
)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(ip in network for network in CARRIES_IPV4):
            return False
    # Each test named, not only is_global: what is_global covers has changed between Python's patch releases.
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def split(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a URL the service could POST to, else Unsafe saying what is wrong."""
    if len(url) > MAX_URL:
        raise Unsafe(f"the URL is over {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Unsafe("not a URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Unsafe("give an https:// URL")
    if parts.username or parts.password:
        raise Unsafe("the URL must not hold a user name or password: the signature proves who sends")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unsafe(f"the host {host[:100]} does not resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def target(url: str) -> Target:
    """Where to connect for this URL now: its first address, every address it resolves to checked."""
    scheme, host, port, path = split(url)
    addresses = resolve(host, port)
    if not allow_private():
        for address in addresses:
            if not is_public(address):
                raise Unsafe(f"the host {host[:100]} is or resolves to a private address ({address})")
        if scheme == "http":
            raise Unsafe("the URL must be https")
    return Target(scheme, host, port, path, addresses[0])
