"""Object storage for face photos: one protocol, a local-directory backend and an S3 backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from storage.base import InvalidKey, ObjectNotFound, ObjectStore, StorageError, validate_key
from storage.local import LocalStore

if TYPE_CHECKING:
    from storage.s3 import S3Store

__all__ = [
    "InvalidKey",
    "LocalStore",
    "ObjectNotFound",
    "ObjectStore",
    "S3Store",
    "StorageError",
    "open_store",
    "validate_key",
]


def __getattr__(name: str) -> Any:
    # The S3 backend loads the minio SDK (a sixth of a second): only a process that uses it pays.
    if name == "S3Store":
        from storage.s3 import S3Store

        return S3Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_S3_OPTIONS = frozenset({"secure", "region"})


def open_store(url: str) -> ObjectStore:
    """Build a store from file:///abs/dir, file:rel/dir or s3://ACCESS:SECRET@host:port/bucket?secure=&region=."""
    # Error messages below never echo the URL: the s3 form carries the secret key.
    parts = urlsplit(url)
    if parts.scheme == "file":
        return _open_local(parts)
    if parts.scheme == "s3":
        return _open_s3(parts)
    raise ValueError(f"unsupported storage URL scheme {parts.scheme!r}; use file: or s3://")


def _open_local(parts: SplitResult) -> LocalStore:
    """Build a LocalStore from a split file: URL."""
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"file: storage URLs cannot name a remote host ({parts.netloc!r})")
    if parts.query:
        raise ValueError("file: storage URLs take no query options")
    if not parts.path:
        raise ValueError("file: storage URL has no directory")
    # file:relative/dir has no leading '/'; resolve it now so a later chdir cannot move the store.
    return LocalStore(Path(unquote(parts.path)).absolute())


def _open_s3(parts: SplitResult) -> S3Store:
    """Build an S3Store from a split s3:// URL."""
    if not parts.hostname:
        raise ValueError("s3:// storage URL has no host")
    if parts.username is None or parts.password is None:
        raise ValueError("s3:// storage URL needs ACCESS:SECRET@ credentials, percent-encoded")
    bucket = parts.path.strip("/")
    if not bucket or "/" in bucket:
        raise ValueError("s3:// storage URL path must be exactly one bucket name")
    options = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    unknown = set(options) - _S3_OPTIONS
    if unknown:
        raise ValueError(f"unknown s3:// storage URL options: {', '.join(sorted(unknown))}")
    secure = True
    if "secure" in options:
        flag = options["secure"][-1].lower()
        if flag not in _TRUE | _FALSE:
            raise ValueError(f"s3:// option secure must be true or false, not {flag!r}")
        secure = flag in _TRUE
    region = options.get("region", [""])[-1] or None
    host = parts.hostname
    # hostname drops the brackets an IPv6 literal needs inside host:port.
    if ":" in host:
        host = f"[{host}]"
    endpoint = f"{host}:{parts.port}" if parts.port else host
    from storage.s3 import S3Store

    return S3Store(
        endpoint,
        unquote(parts.username),
        unquote(parts.password),
        bucket,
        secure=secure,
        region=region,
    )
