"""Errors that services raise and the API turns into 4xx responses with machine-readable reasons."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; `errors` maps a field (or '_') to reason codes."""

    status = 422

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers, such as Retry-After."""
        return {}

    @classmethod
    def field(cls, field: str, reason: str, message: str | None = None) -> DomainError:
        """An error about one field with one reason code."""
        return cls(message or f"{field}: {reason}", {field: [reason]})


class BadRequest(DomainError):
    """A request that cannot be read at all, such as a page cursor this server did not issue."""

    status = 400


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    """The caller's role may not do this at all; out-of-scope objects are NotFound instead."""

    status = 403


class PreconditionFailed(DomainError):
    """The caller's copy is stale (its ETag no longer matches)."""

    status = 412
