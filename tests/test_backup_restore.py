"""A backup made as the README says (the database with pg_dump, then the object folder), restored on another
database: everything reads back with the same data key, and `fieldcheck audit verify` finds the chain whole."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from sqlalchemy.engine import make_url

from server import db
from server.app import create_app
from tests.conftest import REDIS_URL, fresh_pg_database
from tests.support.sensitive_data import reads_everything_seeded, seeded_app


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def test_a_backup_restored_on_another_database_reads_everything_and_its_audit_chain_verifies(tmp_path: Path):
    with fresh_pg_database() as url, fresh_pg_database() as elsewhere:
        app, seeded = seeded_app(tmp_path / "instance", url)
        settings = app.config["FIELDCHECK"]

        # The database first, then the objects: an object is stored before the rows that name it, so a copy
        # of the folder made after the dump holds every object the dump refers to.
        dump = tmp_path / "fieldcheck.dump"
        subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), _libpq(url)], check=True)
        shutil.copytree(tmp_path / "instance" / "objects", tmp_path / "restored-objects")
        subprocess.run(["pg_restore", "--no-owner", "--dbname", _libpq(elsewhere), str(dump)], check=True)
        with app.app_context():
            db.engine().dispose()

        restored_settings = replace(
            settings, database_url=elsewhere, storage_url=f"file://{tmp_path / 'restored-objects'}"
        )
        restored = create_app(restored_settings, http=False)
        reads_everything_seeded(restored, seeded)
        with restored.app_context():
            db.engine().dispose()

        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")} | {
            "FIELDCHECK_INSTANCE_PATH": str(tmp_path / "restored-instance"),
            "FIELDCHECK_DATABASE_URL": elsewhere,
            "FIELDCHECK_STORAGE_URL": restored_settings.storage_url,
            "FIELDCHECK_BROKER_URL": REDIS_URL,
            "FIELDCHECK_SECRET_KEY": settings.secret_key,
            "FIELDCHECK_DATA_KEY": base64.b64encode(settings.data_key).decode(),
        }
        command = [sys.executable, "-m", "server.cli", "audit", "verify"]
        verified = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert (verified.returncode, verified.stdout) == (0, "audit chain intact\n"), verified.stderr
