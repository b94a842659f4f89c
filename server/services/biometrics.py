"""Biometric objects (photos, frames): encrypted before they leave the process, audited when read."""

from __future__ import annotations

import logging

from server.context import Ctx
from server.db import AUDIT_BEFORE_DECRYPT, commit_early
from server.services.audit import Actor, record
from storage import StorageError

log = logging.getLogger(__name__)


def put(ctx: Ctx, *, key: str, data: bytes) -> None:
    """Encrypt and store; the key is the AES-GCM context, so an object moved to another key will not open."""
    # Stored as opaque bytes: a content type in storage metadata would say what the ciphertext hides.
    ctx.store.put(key, ctx.cipher.encrypt(data, context=key), "application/octet-stream")


def get(ctx: Ctx, *, key: str) -> bytes:
    """Fetch and decrypt without auditing: for the worker's own processing."""
    return ctx.cipher.decrypt(ctx.store.get(key), context=key)


def read_for_person(
    ctx: Ctx,
    *,
    actor: Actor,
    key: str,
    object_type: str,
    object_id: str,
    region_code: str,
    reason: str | None,
) -> bytes:
    """Decrypt an object for a person to look at, recording who looked and why. Commits the audit entry first."""
    record(
        ctx.session,
        actor=actor,
        action="biometric.viewed",
        object_type=object_type,
        object_id=object_id,
        region_code=region_code,
        reason=reason,
    )
    commit_early(ctx.session, AUDIT_BEFORE_DECRYPT)
    return get(ctx, key=key)


def discard(ctx: Ctx, *, key: str) -> None:
    """Best-effort removal of an object whose row was never committed."""
    try:
        ctx.store.delete(key)
    except StorageError:
        log.warning("could not remove orphaned object %s", key, exc_info=True)
