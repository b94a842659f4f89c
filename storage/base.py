"""The object-store protocol, its errors and the shared key validator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Protocol, runtime_checkable

MAX_KEY_LENGTH = 512
PRESIGN_METHODS = frozenset({"GET", "PUT"})

# Plain ASCII only: keys become file names on LocalStore and URL paths on S3,
# so anything needing escaping or normalisation is refused rather than mapped.
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


class StorageError(Exception):
    """A backend failed (network, permissions, server error)."""


class ObjectNotFound(StorageError):
    """The requested key does not exist."""


class InvalidKey(ValueError):
    """A key failed validation."""


@runtime_checkable
class ObjectStore(Protocol):
    """A flat key/bytes store that can hand out time-limited URLs."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store data under key, replacing any previous object; durable when it returns."""

    def get(self, key: str) -> bytes:
        """Return the object's bytes or raise ObjectNotFound."""

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under key."""

    def walk(self) -> Iterator[str]:
        """Every stored key, in no set order: a walk over the whole store, for maintenance (a key rotation)."""

    def presigned_url(
        self,
        key: str,
        *,
        method: str = "GET",
        expires: timedelta = timedelta(minutes=15),
        content_type: str | None = None,
    ) -> str:
        """Return a URL that lets a client GET or PUT the object directly."""


def validate_key(key: str) -> str:
    """Return key unchanged if it is a safe relative object key, else raise InvalidKey."""
    if not isinstance(key, str):
        raise InvalidKey(f"object key must be a str, not {type(key).__name__}")
    if not key:
        raise InvalidKey("object key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"object key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}")
    shown = key[:80]
    if key.startswith("/"):
        raise InvalidKey(f"object key {shown!r} must be relative (no leading '/')")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(f"object key {shown!r} has an empty segment")
        if segment in (".", ".."):
            raise InvalidKey(f"object key {shown!r} has a {segment!r} segment")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidKey(f"object key {shown!r} may only use A-Z a-z 0-9 . _ - and '/' separators")
    return key


def validate_method(method: str) -> str:
    """Return the upper-cased HTTP method if a presigned URL can be made for it, else raise ValueError."""
    normalised = method.upper()
    if normalised not in PRESIGN_METHODS:
        raise ValueError(f"presigned URLs support GET and PUT, not {method!r}")
    return normalised
