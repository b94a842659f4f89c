"""The package layering holds (import-linter's contracts in pyproject.toml), and start-up computes no hash.

Which libraries start-up loads: tests/test_startup.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_app_computes_no_password_hash() -> None:
    # An argon2 hash costs tens of milliseconds of CPU: every command and API worker would pay it.
    probe = (
        "import argon2\n"
        "calls = []\n"
        "real = argon2.PasswordHasher.hash\n"
        "argon2.PasswordHasher.hash = lambda self, *a, **k: calls.append(1) or real(self, *a, **k)\n"
        "import server.app, server.cli\n"
        "print(len(calls))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr
