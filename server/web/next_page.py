"""Where a console form sends the browser afterwards: a path on this site, never another site."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None, default: str) -> str:
    """target if it is a path on this site, else default.

    An open redirect lets a phishing link send a supervisor, just signed in, to a copy of the console.
    Browsers read a backslash as a slash and drop tabs and newlines inside a URL, so "/\\evil.example" and
    "/\\t/evil.example" lead off the site as "//evil.example" does; they are refused too.
    """
    if not target or not target.startswith("/") or any(ch.isspace() or not ch.isprintable() for ch in target):
        return default
    parts = urlsplit(target.replace("\\", "/"))
    if parts.scheme or parts.netloc:
        return default
    return target
