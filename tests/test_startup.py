"""Start-up stays light: the CLI's help and the app factory load none of the heavy libraries.

Each probe runs in a fresh interpreter, as an operator's command or a gunicorn master does, and reports
which of the heavy modules it ended up importing. The figures themselves: `fieldcheck bench startup`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Loaded on first use only: the face library and its image stack, Celery (built when a task is first
# sent), and the libraries of one feature each (Excel exports, QR codes, the SMS webhook).
HEAVY = (
    "numpy",
    "PIL",
    "cv2",
    "dlib",
    "face_recognition",
    "face_recognition_models",
    "mediapipe",
    "celery",
    "kombu",
    "openpyxl",
    "segno",
    "requests",
)
# What `fieldcheck --help` must not need either: the app, its database layer, its services, and the
# command plugins of Flask extensions (Flask-Limiter's brings rich).
APP_LEVEL = (
    "server.app",
    "server.models",
    "server.services.audit",
    "sqlalchemy",
    "flask_smorest",
    "flask_limiter",
    "rich",
)

PROBE = """
import gc, json, os, sys
import apispec
watched = {watched!r}
loaded = lambda: sorted(m for m in watched if m in sys.modules)
seen = {{}}
from server.cli import cli
cli.main(["--help"], prog_name="fieldcheck", standalone_mode=False)
cli.main(["sweep", "--help"], prog_name="fieldcheck", standalone_mode=False)
seen["help"] = loaded()
# Counted, not replaced: each operation documented, each garbage collection run.
documented = []
path = apispec.APISpec.path
apispec.APISpec.path = lambda spec, *args, **kwargs: documented.append(kwargs) or path(spec, *args, **kwargs)
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
from server.app import create_app
from server.config import InstanceUse, Settings
settings = Settings.from_env(use=InstanceUse.NONE)
collections.clear()
app = create_app(settings)
seen["create_app"] = loaded()
seen["collections_while_building"] = len(collections)
seen["collector_enabled"] = gc.isenabled()
seen["documented_paths"] = len(documented)
# Libraries the app imported that had to be compiled from source: no bytecode next to them.
seen["compiled_from_source"] = sorted(
    name for name, module in list(sys.modules.items())
    if (spec := getattr(module, "__spec__", None)) and spec.origin and "site-packages" in spec.origin
    and spec.origin.endswith(".py") and not os.path.exists(spec.cached)
)
spec = app.test_client().get("/openapi.json").get_json()
seen["documented_on_request"] = len(documented)
seen["paths"] = len(spec["paths"])
gc.disable()
create_app(settings)
seen["collector_left_disabled"] = not gc.isenabled()
gc.enable()
# The Celery app is still there for whoever sends a task, built on that first use.
seen["broker"] = app.extensions["fieldcheck.celery"].conf.broker_url
seen["after_first_use"] = loaded()
print(json.dumps(seen))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FIELDCHECK_")}
    return env | {"FIELDCHECK_INSTANCE_PATH": str(tmp_path / "instance")}


def test_help_and_the_app_factory_load_no_heavy_library(tmp_path: Path) -> None:
    code = PROBE.format(watched=HEAVY + APP_LEVEL)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["help"] == []
    assert [m for m in seen["create_app"] if m in HEAVY] == []
    # The OpenAPI document is built when first asked for, not by every process that builds the app.
    assert seen["documented_paths"] == 0
    assert seen["documented_on_request"] == seen["paths"] > 0
    # No collection while the app is built (its objects live as long as the process); the collector is
    # left as the caller had it.
    assert seen["collections_while_building"] == 0
    assert seen["collector_enabled"] and seen["collector_left_disabled"]
    # The libraries are installed with their bytecode (`make`): none is compiled again at each start.
    assert seen["compiled_from_source"] == []
    assert seen["broker"].startswith("sqla+sqlite:///")
    assert {"celery", "kombu"} <= set(seen["after_first_use"])
    # Nothing was written: listing commands and building the app for a command that reads no data.
    assert not (tmp_path / "instance").exists()


def test_the_fieldcheck_command_shows_its_help(tmp_path: Path) -> None:
    fieldcheck = Path(sys.executable).with_name("fieldcheck")
    result = subprocess.run(
        [str(fieldcheck), "--help"], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "init-db" in result.stdout and "bench" in result.stdout
