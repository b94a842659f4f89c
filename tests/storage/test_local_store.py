"""LocalStore behaviour beyond the shared contract: permissions, atomic writes, path conflicts."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from storage import LocalStore, ObjectNotFound, StorageError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_root_is_created_private_on_first_write(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    assert not store.root.exists()
    assert not store.exists("a.jpg")
    store.put("a.jpg", b"1")
    assert _mode(store.root) == 0o700


def test_objects_are_private_files(local_store: LocalStore) -> None:
    local_store.put("nested/a.jpg", b"1")
    assert _mode(local_store.root / "nested" / "a.jpg") == 0o600
    assert _mode(local_store.root / "nested") == 0o700


def test_writes_leave_no_temporary_files(local_store: LocalStore) -> None:
    local_store.put("d/a.jpg", b"1")
    local_store.put("d/a.jpg", b"2")
    assert [p.name for p in (local_store.root / "d").iterdir()] == ["a.jpg"]


def test_key_under_an_existing_object_is_a_storage_error(local_store: LocalStore) -> None:
    # S3 allows both "a" and "a/b"; a filesystem cannot, and says so loudly.
    local_store.put("a", b"1")
    with pytest.raises(StorageError):
        local_store.put("a/b", b"2")
    with pytest.raises(ObjectNotFound):
        local_store.get("a/b")
    assert not local_store.exists("a/b")
    local_store.delete("a/b")
    assert local_store.get("a") == b"1"


def test_unusable_root_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_bytes(b"")
    store = LocalStore(tmp_path / "not-a-dir")
    with pytest.raises(StorageError):
        store.put("a.jpg", b"1")


def test_presigned_url_is_a_file_uri_for_put_too(local_store: LocalStore) -> None:
    url = local_store.presigned_url("x/y.jpg", method="put")
    assert url == (local_store.root / "x" / "y.jpg").as_uri()
