"""Where a sign-in may send staff next: only ever a path on this site.

Browsers are lenient where a server is not: they drop tabs and newlines inside a URL (so `/\t/evil` becomes
`//evil`, another site), read a backslash as a slash, and take `//host` as a host. So the target is
refused, not repaired, as soon as it holds anything a browser might read differently from us.
"""

import unicodedata
from urllib.parse import urlsplit

MAX_LENGTH = 2000


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site (with its query), else None."""
    if not target or len(target) > MAX_LENGTH or "\\" in target:
        return None
    # Controls, format characters (bidi overrides, zero widths) and every kind of space.
    if any(unicodedata.category(ch)[0] in "CZ" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target
