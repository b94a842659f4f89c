"""The README's configuration table states the real defaults of the settings it names.

An office's administrator configures FieldCheck from that table: a default that drifted from the
code (a threshold recalibrated, the table left alone) tells them the wrong thing about how strict
the face check is. Each documented name and plain-number default is checked against what
`Settings.from_env` does: setting the variable to the documented value changes nothing, and setting
it to another value changes something or is refused (so the name is one the code reads).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from pathlib import Path

import pytest

from server.config import ConfigError, InstanceUse, Settings

README = Path(__file__).resolve().parents[1] / "README.md"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_NAMED_VALUE = re.compile(r"`([A-Z][A-Z0-9_]*)` \(([^)]*)\)")


def _plain(value: str) -> str | None:
    value = value.strip().strip("`").replace("−", "-")
    return value if _NUMBER.match(value) else None


def documented_defaults() -> list[tuple[str, str]]:
    """(variable, default) for every plain-number default the README's configuration table gives.

    A row names its first variable in full and its siblings by suffix (`FIELDCHECK_FACE_ACCEPT` /
    `_REVIEW`: FIELDCHECK_FACE_REVIEW), with as many defaults split by " / "; a row for a family
    (`FIELDCHECK_LIVENESS_*`) names its members in the meaning column, each with its default in brackets.
    """
    text = README.read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1]
    found = []
    for line in table.splitlines():
        if not line.startswith("| `FIELDCHECK_"):
            continue
        names_cell, default_cell, meaning = (cell.strip() for cell in line.strip("|").split(" | ", 2))
        names = re.findall(r"`([A-Z_*]+)`", names_cell)
        first = names[0]
        section = "_".join(first.split("_")[:2])
        if first.endswith("_*"):
            family = first[:-1]
            found += [(family + name, v) for name, raw in _NAMED_VALUE.findall(meaning) if (v := _plain(raw))]
            continue
        full = [first, *(section + name for name in names[1:])]
        defaults = default_cell.split(" / ")
        if len(defaults) == len(full):
            found += [(name, v) for name, raw in zip(full, defaults, strict=True) if (v := _plain(raw))]
    return found


def _settings(tmp_path: Path) -> Settings:
    settings = Settings.from_env(tmp_path, use=InstanceUse.NONE)
    # Throwaway keys differ on every call; everything else is what the variables made.
    return dataclasses.replace(settings, secret_key="", data_key=b"")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("FIELDCHECK_"):
            monkeypatch.delenv(name)


def test_the_table_names_the_face_thresholds():
    names = {name for name, _ in documented_defaults()}
    # The parse found the rows an administrator tunes most: a table it could not read checks nothing.
    assert {"FIELDCHECK_FACE_ACCEPT", "FIELDCHECK_FACE_NORM_ACCEPT", "FIELDCHECK_LIVENESS_MIN_ACTION_FRAMES"} <= names


@pytest.mark.parametrize(("name", "default"), documented_defaults())
def test_a_documented_default_is_the_real_one(tmp_path, monkeypatch, name, default):
    baseline = _settings(tmp_path)
    monkeypatch.setenv(name, default)
    assert _settings(tmp_path) == baseline, f"the README gives {name} = {default}, the code another default"
    other = str(float(default) + 1) if "." in default else str(int(default) + 1)
    monkeypatch.setenv(name, other)
    # A value the settings refuse (say, an accept looser than the review) shows the name is read, too.
    with contextlib.suppress(ConfigError):
        assert _settings(tmp_path) != baseline, f"{name} is in the README but no setting reads it"
