"""Re-encrypting everything under a new data key, with the service stopped (a leaked key, a departing admin).

Every value an encrypted column holds and every stored object is decrypted with the old key and encrypted
with the new one; the ID numbers' lookup index is recomputed with the new key's HMAC. The run commits a
batch at a time and each object is replaced whole, so a run that stops part-way is simply run again: what
the new key already opens is left as it is. An activation code not yet used cannot be recomputed (only its
HMAC is kept), so it is voided and staff issue a new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Column, LargeBinary, Table, bindparam, select, type_coerce, update
from sqlalchemy.orm import Session

from server.context import Ctx
from server.crypto import DataCipher, DecryptionError
from server.db import unit_of_work
from server.models import Base, Beneficiary, Device
from server.models.base import EncryptedText
from server.services.audit import Actor, record

BATCH = 500


@dataclass
class Rotation:
    """What a run re-encrypted, what it found already under the new key, and the codes it voided."""

    values: int = 0
    objects: int = 0
    already: int = 0
    voided_codes: int = 0


def encrypted_columns() -> list[tuple[Table, Column]]:
    """Every column an encrypted type guards, read off the models (a column added later is never missed)."""
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


def key_fingerprint(cipher: DataCipher) -> str:
    """A short name for a key that reveals nothing of it: its lookup HMAC of a fixed label."""
    return cipher.index("fieldcheck/key-fingerprint")[:12]


def rotate(ctx: Ctx, *, new: DataCipher, actor: Actor) -> Rotation:
    """Re-encrypt every encrypted value and object from the context's key to `new`; record it in the audit log.

    A unit of work per batch of rows (outside any other), so run it with the service stopped.
    """
    session, store, old = ctx.session, ctx.store, ctx.cipher
    done = Rotation()
    for table, column in encrypted_columns():
        context = column.type.context
        # The ID number's lookup index is the new key's HMAC of the number, written with it.
        index = (
            (lambda plain: {"id_number_index": new.index(plain.decode())})
            if column is Beneficiary.__table__.c.id_number
            else None
        )
        for batch in _batches(session, table, column):
            # A batch is one unit: a run that stops keeps every batch before it.
            with unit_of_work(session):
                for row_id, token in batch:
                    what = f"{table.name}.{column.name} of {row_id}"
                    plain = _reopen(token, context, old=old, new=new, what=what)
                    if plain is None:
                        done.already += 1
                        continue
                    values = {column.name: type_coerce(new.encrypt(plain, context=context), LargeBinary)}
                    values |= index(plain) if index else {}
                    session.execute(update(table).where(table.c.id == row_id).values(values))
                    done.values += 1
    with unit_of_work(session):
        done.voided_codes = session.execute(
            update(Device).where(Device.activation_code_index.is_not(None)).values(activation_code_index=None)
        ).rowcount
    for key in list(store.walk()):
        plain = _reopen(store.get(key), key, old=old, new=new, what=f"object {key}")
        if plain is None:
            done.already += 1
            continue
        store.put(key, new.encrypt(plain, context=key))
        done.objects += 1
    with unit_of_work(session):
        record(
            session,
            actor=actor,
            action="data_key.rotated",
            object_type="data_key",
            object_id=key_fingerprint(new),
            details={"from": key_fingerprint(old), **vars(done)},
        )
    return done


def _batches(session: Session, table: Table, column: Column) -> Iterator[list[tuple[object, bytes]]]:
    """(id, ciphertext) of every row with a value, in batches by id (each read after the last was written)."""
    raw = type_coerce(column, LargeBinary)
    after = None
    while True:
        query = select(table.c.id, raw).where(column.is_not(None)).order_by(table.c.id).limit(BATCH)
        if after is not None:
            query = query.where(table.c.id > bindparam("after", after, type_=table.c.id.type))
        rows = [tuple(row) for row in session.execute(query)]
        if rows:
            yield rows
        if len(rows) < BATCH:
            return
        after = rows[-1][0]


def _reopen(token: bytes, context: str, *, old: DataCipher, new: DataCipher, what: str) -> bytes | None:
    """The plaintext under the old key; None if the new key already opens it (a run resumed)."""
    if _opens(new, token, context):
        return None
    try:
        return old.decrypt(token, context=context)
    except DecryptionError as exc:
        raise DecryptionError(f"neither the old key nor the new one opens {what}") from exc


def remaining(ctx: Ctx, *, cipher: DataCipher) -> int:
    """How many values and objects `cipher` cannot open: 0 once a rotation to it is complete."""
    count = 0
    for table, column in encrypted_columns():
        context = column.type.context
        batches = _batches(ctx.session, table, column)
        count += sum(1 for batch in batches for _id, token in batch if not _opens(cipher, token, context))
    count += sum(1 for key in ctx.store.walk() if not _opens(cipher, ctx.store.get(key), key))
    return count


def _opens(cipher: DataCipher, token: bytes, context: str) -> bool:
    try:
        cipher.decrypt(token, context=context)
        return True
    except DecryptionError:
        return False
