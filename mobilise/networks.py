"""What is kept of a requester's address: its network, never the address itself."""

import ipaddress


def network_of(address: str | None) -> str | None:
    """The address's network, /24 for IPv4 and /48 for IPv6: all that is ever kept, even in Redis.

    Done on every pixel, so IPv4 (nearly all traffic) is cut by string, not parsed.
    """
    address = (address or "").strip()
    parts = address.split(".")
    if len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts):
        return f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return None
    return str(ipaddress.IPv6Network((int(ip) >> 80 << 80, 48)))
