"""Rotating the data key: every encrypted value and object re-encrypted, ID numbers found again, nothing left
that the old key opens, and the audit log told. On PostgreSQL through the service, and on the embedded default
through the `fieldcheck rotate-data-key` command, as an office runs it with the service stopped."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import LargeBinary, select, type_coerce

from server import db
from server.app import create_app
from server.config import InstanceUse, Settings
from server.context import Ctx
from server.crypto import DataCipher, DecryptionError
from server.models import (
    AuditEntry,
    Device,
)
from server.services import key_rotation
from server.services.audit import Actor
from storage import StorageError
from tests.conftest import fresh_pg_database
from tests.support.sensitive_data import reads_everything_seeded, seed_sensitive_data, seeded_app


def _store_gone(*_args, **_kwargs) -> None:
    raise StorageError("the object store went away")


def _old_key_opens_nothing(app: Flask, old: DataCipher) -> None:
    with app.app_context():
        ctx = Ctx.current()
        for _table, column in key_rotation.encrypted_columns():
            for token in ctx.session.scalars(select(type_coerce(column, LargeBinary)).where(column.is_not(None))):
                with pytest.raises(DecryptionError):
                    old.decrypt(token, context=column.type.context)
        for key in ctx.store.walk():
            with pytest.raises(DecryptionError):
                old.decrypt(ctx.store.get(key), context=key)
        ctx.session.rollback()


def _rotation_audited(app: Flask, new: DataCipher) -> dict:
    with app.app_context():
        [entry] = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "data_key.rotated")).all()
        assert entry.object_id == key_rotation.key_fingerprint(new)
        return entry.details


def test_a_rotation_on_postgresql_re_encrypts_everything_and_resumes(tmp_path, monkeypatch):
    with fresh_pg_database() as url:
        old_app, seeded = seeded_app(tmp_path / "instance", url)
        settings = old_app.config["FIELDCHECK"]
        new_key = secrets.token_bytes(32)
        new = DataCipher(new_key)

        actor = Actor(kind="system", id="test")
        store = old_app.extensions["fieldcheck.store"]
        # Batches of two, so the five ID numbers take three and each batch starts after the last one's id.
        monkeypatch.setattr(key_rotation, "BATCH", 2)
        with old_app.app_context(), monkeypatch.context() as failing:
            # The object store goes away after the database's values are done: the run stops there.
            failing.setattr(store, "put", _store_gone)
            with pytest.raises(StorageError):
                key_rotation.rotate(Ctx.current(), new=new, actor=actor)
        with old_app.app_context():
            done = key_rotation.rotate(Ctx.current(), new=new, actor=actor)
        # Run again, it finds the database's values done (five people's ID numbers, one's phone and address, a
        # template, a visit's three fields) and carries on with the object.
        assert (done.values, done.objects, done.already, done.voided_codes) == (0, 1, 11, 0)
        assert _rotation_audited(old_app, new)["objects"] == 1

        new_app = create_app(replace(settings, data_key=new_key), http=False)
        reads_everything_seeded(new_app, seeded)
        _old_key_opens_nothing(new_app, DataCipher(settings.data_key))
        with new_app.app_context():
            ctx = Ctx.current()
            assert key_rotation.remaining(ctx, cipher=new) == 0
            # The unused code was voided (by the first run): its HMAC cannot be recomputed under the new key.
            assert ctx.session.scalar(select(Device.activation_code_index)) is None
            # A run that stopped part-way is run again: what the new key opens stays as it is.
            again = key_rotation.rotate(Ctx.current(), new=new, actor=Actor(kind="system", id="test"))
            ctx.session.rollback()
        assert (again.values, again.objects, again.already) == (0, 0, 12)
        for engine_app in (old_app, new_app):
            with engine_app.app_context():
                db.engine().dispose()


def test_the_command_rotates_the_embedded_default_and_keeps_the_new_key_in_the_instance(tmp_path):
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")}
    env["FIELDCHECK_INSTANCE_PATH"] = str(instance)
    subprocess.run([sys.executable, "-m", "server.cli", "init-db"], env=env, check=True, capture_output=True)
    settings = Settings.from_env(instance, use=InstanceUse.REQUIRE)
    seeded = seed_sensitive_data(create_app(settings, http=False))
    new_key = secrets.token_bytes(32)
    key_file = tmp_path / "new.key"
    key_file.write_text(base64.b64encode(new_key).decode())

    def command(*extra: str, key: Path = key_file) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "server.cli", "rotate-data-key", "--new-key-file", str(key), *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    same = command(key=instance / "data.key")
    assert same.returncode == 1 and "the new key is the key in use" in same.stderr, same.stderr
    before = command("--check")
    assert before.returncode == 1 and before.stdout.startswith("12 values and objects"), before.stdout
    rotated = command()
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 11 values and 1 objects" in rotated.stdout and "1 unused activation codes voided" in (
        rotated.stdout
    )
    assert Path(instance / "data.key").read_text().strip() == key_file.read_text().strip()
    after = command("--check")
    assert after.returncode == 0 and after.stdout.startswith("0 values"), after.stdout

    reopened = create_app(Settings.from_env(instance, use=InstanceUse.REQUIRE), http=False)
    reads_everything_seeded(reopened, seeded)
    _old_key_opens_nothing(reopened, DataCipher(settings.data_key))
    assert _rotation_audited(reopened, DataCipher(new_key))["objects"] == 1
