"""Behaviour every ObjectStore backend must share, run against LocalStore and S3Store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
import requests

from storage import InvalidKey, LocalStore, ObjectNotFound, ObjectStore, validate_key

ALL_BYTES = bytes(range(256))
# Just over the SDK's 5 MiB part size, so S3 goes through a two-part multipart upload.
LARGE = (ALL_BYTES * (5 * 1024 * 1024 // 256 + 1))[: 5 * 1024 * 1024 + 3]

BAD_KEYS = ["../x", "/abs", "a//b", "a/./b", "sp ace", "", "x" * 600, "a/", "x/..", "é", "a\nb", "a\\b"]


def test_store_satisfies_protocol(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


@pytest.mark.parametrize("data", [ALL_BYTES, LARGE, b""], ids=["all-256-bytes", "5MiB", "empty"])
def test_round_trip(store: ObjectStore, data: bytes) -> None:
    store.put("photos/round-trip.bin", data)
    assert store.get("photos/round-trip.bin") == data


def test_overwrite_replaces_content(store: ObjectStore) -> None:
    store.put("photo.jpg", b"first version, longer than the second")
    store.put("photo.jpg", b"second")
    assert store.get("photo.jpg") == b"second"


def test_exists_follows_put_and_delete(store: ObjectStore) -> None:
    assert not store.exists("a.jpg")
    store.put("a.jpg", b"x")
    assert store.exists("a.jpg")
    store.delete("a.jpg")
    assert not store.exists("a.jpg")


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.delete("never-written.jpg")
    store.put("once.jpg", b"x")
    store.delete("once.jpg")
    store.delete("once.jpg")
    assert not store.exists("once.jpg")


def test_get_missing_raises_object_not_found(store: ObjectStore) -> None:
    # Before anything is written (no S3 bucket, no local root) and after.
    with pytest.raises(ObjectNotFound):
        store.get("missing.jpg")
    store.put("present.jpg", b"x")
    with pytest.raises(ObjectNotFound):
        store.get("missing.jpg")


def test_nested_keys_are_independent(store: ObjectStore) -> None:
    store.put("checkins/2024/01/p-1.jpg", b"jan")
    store.put("checkins/2024/02/p-1.jpg", b"feb")
    assert store.get("checkins/2024/01/p-1.jpg") == b"jan"
    assert store.get("checkins/2024/02/p-1.jpg") == b"feb"
    # A prefix of stored keys is not itself an object.
    assert not store.exists("checkins/2024")
    with pytest.raises(ObjectNotFound):
        store.get("checkins/2024")
    store.delete("checkins/2024")
    assert store.get("checkins/2024/01/p-1.jpg") == b"jan"


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_invalid_keys_are_rejected_by_every_operation(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(key, b"x")
    with pytest.raises(InvalidKey):
        store.get(key)
    with pytest.raises(InvalidKey):
        store.delete(key)
    with pytest.raises(InvalidKey):
        store.exists(key)
    with pytest.raises(InvalidKey):
        store.presigned_url(key)


@pytest.mark.parametrize("key", ["a", "A-Z_0.9", "..a", "a..b", "a/b/c.jpg", "x" * 512])
def test_valid_keys_pass_unchanged(key: str) -> None:
    assert validate_key(key) == key


def test_invalid_key_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate_key("../etc/passwd")


def test_walk_lists_every_object_and_nothing_else(store: ObjectStore) -> None:
    assert list(store.walk()) == []
    for key in ("checkins/one", "photos/a/b.jpg", "top"):
        store.put(key, b"x")
    store.delete("top")
    assert sorted(store.walk()) == ["checkins/one", "photos/a/b.jpg"]


def test_presigned_get_serves_the_object(store: ObjectStore) -> None:
    store.put("visits/v-1.jpg", ALL_BYTES, content_type="image/jpeg")
    url = store.presigned_url("visits/v-1.jpg", expires=timedelta(minutes=5))
    if isinstance(store, LocalStore):
        # file:// URIs are only meaningful on this machine; check they name the object.
        assert urlsplit(url).scheme == "file"
        path = Path(url2pathname(urlsplit(url).path))
        assert path == store.root / "visits" / "v-1.jpg"
        assert path.read_bytes() == ALL_BYTES
    else:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        assert response.content == ALL_BYTES


@pytest.mark.parametrize("method", ["DELETE", "POST", "HEAD"])
def test_presigned_url_rejects_other_methods(store: ObjectStore, method: str) -> None:
    with pytest.raises(ValueError, match="GET and PUT"):
        store.presigned_url("a.jpg", method=method)
