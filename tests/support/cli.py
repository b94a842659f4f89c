"""Running the `fieldcheck` command in tests: in this process on the suite's app, or as a real process."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import text

from server import db
from server.cli import cli


def invoke(app: Flask, *args: str) -> Result:
    """Run a command in this process against the suite's app and database."""
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def run_command(app: Flask, instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command as an operator would, in its own process, configured for the suite's database."""
    settings = app.config["FIELDCHECK"]
    env = os.environ | {
        "FIELDCHECK_DATABASE_URL": settings.database_url,
        "FIELDCHECK_SECRET_KEY": settings.secret_key,
        "FIELDCHECK_DATA_KEY": base64.b64encode(settings.data_key).decode(),
        "FIELDCHECK_INSTANCE_PATH": str(instance),
        "FIELDCHECK_BROKER_URL": settings.broker_url,
    }
    command = [sys.executable, "-m", "server.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def tamper_with_audit_log(app: Flask, *statements: str) -> None:
    """Rewrite history as the table's owner would: switch the append-only guard off, then on again."""
    with app.app_context():
        session = db.session()
        session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        for statement in statements:
            session.execute(text(statement))
        session.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))
        session.commit()
