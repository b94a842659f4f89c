"""Appending to the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from server.context import Ctx
from server.models import AuditChainHead, AuditEntry, utcnow

GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = 1


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff member, a beneficiary's device, or the system itself."""

    kind: str
    id: str | None
    role: str | None = None
    region_code: str | None = None
    beneficiary_id: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(kind="system", id=None)


def entry_hash(entry: AuditEntry) -> str:
    """The hash that links an entry to its predecessor."""
    body = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "region_code": entry.region_code,
        "reason": entry.reason,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# Built once: their cache keys and compiled forms are reused by every entry, and the head stays locked from
# the first to the commit, so the less each append costs, the less every other writer waits.
# On the tables: the ORM-enabled forms would also look for loaded heads to synchronise, per entry.
_HEAD = AuditChainHead.__table__
_ADVANCE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == CHAIN_HEAD_ID)
    .values(seq=_HEAD.c.seq + 1)
    .returning(_HEAD.c.seq, _HEAD.c.last_hash)
)
_ENTRY = AuditEntry.__table__
_INSERT_ENTRY = insert(_ENTRY)
_LINK_HEAD = update(_HEAD).where(_HEAD.c.id == CHAIN_HEAD_ID).values(last_hash=bindparam("entry_hash"))
# On PostgreSQL the entry's insert rides in the head's update (a data-modifying WITH): one round trip less for
# every audited change, while the head is locked. SQLite has no such WITH: it runs the two statements.
# (Its parameters are named apart from the columns: an UPDATE reserves its table's column names.)
_APPEND_ON_POSTGRESQL = (
    update(_HEAD)
    .where(_HEAD.c.id == CHAIN_HEAD_ID)
    .values(last_hash=bindparam("entry_entry_hash"))
    .add_cte(insert(_ENTRY).values({c.key: bindparam(f"entry_{c.key}") for c in _ENTRY.columns}).cte("entry"))
)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    region_code: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an entry in the caller's transaction; it commits or rolls back with the change it records."""
    # Updating the head first takes its row lock (a write lock on SQLite), so concurrent writers queue here.
    seq, prev_hash = session.execute(_ADVANCE_HEAD).one()
    entry = AuditEntry(
        seq=seq,
        at=utcnow(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        region_code=region_code,
        reason=reason,
        details=details or {},
        prev_hash=prev_hash,
    )
    entry.entry_hash = entry_hash(entry)
    values = {column.key: getattr(entry, column.key) for column in _ENTRY.columns}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_APPEND_ON_POSTGRESQL, {f"entry_{key}": value for key, value in values.items()})
    else:
        session.execute(_INSERT_ENTRY, values)
        session.execute(_LINK_HEAD, {"entry_hash": entry.entry_hash})


def trail(ctx: Ctx, *, object_ids: list[str], limit: int = 100) -> list[AuditEntry]:
    """The latest entries about these objects (a person's record and its cases), newest first."""
    return list(
        ctx.session.scalars(
            select(AuditEntry).where(AuditEntry.object_id.in_(object_ids)).order_by(AuditEntry.seq.desc()).limit(limit)
        )
    )


def latest(ctx: Ctx, *, region_code: str, offset: int, limit: int) -> list[AuditEntry]:
    """A page of the log, newest first, of entries in the region."""
    query = select(AuditEntry).where(AuditEntry.region_code.like(region_code + "%"))
    return list(ctx.session.scalars(query.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit)))


@dataclass(frozen=True)
class BrokenLink:
    """Where the chain first fails to hold, and how."""

    seq: int
    # missing: no entry with this number (deleted); edited: its content no longer matches its hash;
    # unlinked: it does not point at the entry before it (moved, reordered, or a predecessor replaced);
    # truncated: the chain head records entries after the last one (deleted from the end).
    problem: str

    DESCRIPTIONS = {
        "missing": "no entry has this number: it was deleted",
        "edited": "the entry's content does not match its hash: it was edited",
        "unlinked": "the entry does not follow the one before it: entries were reordered or replaced",
        "truncated": "the chain head counts entries past the last one: entries were deleted from the end",
    }

    @property
    def description(self) -> str:
        return self.DESCRIPTIONS[self.problem]


def find_break(ctx: Ctx, *, batch: int = 5000) -> BrokenLink | None:
    """The first entry that was edited, deleted or reordered, or None if the chain holds."""
    expected_seq, prev_hash = 1, GENESIS_HASH
    last_seen = 0
    while True:
        entries = ctx.session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last_seen).order_by(AuditEntry.seq).limit(batch)
        ).all()
        for entry in entries:
            if entry.seq != expected_seq:
                return BrokenLink(expected_seq, "missing")
            # The link is checked first: a moved entry usually fails both checks, and "unlinked" says more.
            if entry.prev_hash != prev_hash:
                return BrokenLink(expected_seq, "unlinked")
            if entry_hash(entry) != entry.entry_hash:
                return BrokenLink(expected_seq, "edited")
            expected_seq, prev_hash = entry.seq + 1, entry.entry_hash
        if len(entries) < batch:
            break
        last_seen = entries[-1].seq
    head = ctx.session.get(AuditChainHead, CHAIN_HEAD_ID)
    # Entries removed from the end leave the head pointing past the last one.
    if head.seq != expected_seq - 1 or head.last_hash != prev_hash:
        return BrokenLink(expected_seq, "truncated")
    return None


def first_broken_link(ctx: Ctx, *, batch: int = 5000) -> int | None:
    """The sequence number of the first entry that was edited, deleted or reordered, or None if the chain holds."""
    broken = find_break(ctx, batch=batch)
    return broken.seq if broken else None
