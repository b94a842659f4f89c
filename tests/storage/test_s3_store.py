"""S3Store behaviour beyond the shared contract, against moto's S3 server on loopback."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import requests
from minio import Minio

from storage import ObjectNotFound, S3Store, StorageError


def test_presigned_put_then_get(s3_store: S3Store) -> None:
    url = s3_store.presigned_url("uploads/u-1.jpg", method="PUT", content_type="image/jpeg")
    payload = bytes(range(256)) * 4
    # Always send a real Content-Type: moto stores an empty object for the
    # form-encoded type urllib would add by default.
    response = requests.put(url, data=payload, headers={"Content-Type": "image/jpeg"}, timeout=10)
    assert response.status_code == 200
    assert s3_store.get("uploads/u-1.jpg") == payload


def test_content_type_is_stored_and_can_be_overridden_on_get(s3_store: S3Store) -> None:
    s3_store.put("p.jpg", b"\xff\xd8\xff", content_type="image/jpeg")
    plain = requests.get(s3_store.presigned_url("p.jpg"), timeout=10)
    assert plain.headers["Content-Type"] == "image/jpeg"
    forced = requests.get(s3_store.presigned_url("p.jpg", content_type="application/octet-stream"), timeout=10)
    assert forced.headers["Content-Type"] == "application/octet-stream"
    assert forced.content == b"\xff\xd8\xff"


def test_presigned_url_signs_the_requested_expiry(s3_store: S3Store) -> None:
    url = s3_store.presigned_url("p.jpg", expires=timedelta(seconds=90))
    assert "X-Amz-Expires=90" in url
    assert "X-Amz-Signature=" in url


def test_ensure_bucket_is_idempotent(make_s3_store: Callable[..., S3Store]) -> None:
    first = make_s3_store()
    second = S3Store(first.endpoint, "k", "s", first.bucket, secure=False, region=first.region)
    first.ensure_bucket()
    first.ensure_bucket()
    second.ensure_bucket()
    second.put("a", b"1")
    assert first.get("a") == b"1"


def test_works_without_a_configured_region(make_s3_store: Callable[..., S3Store]) -> None:
    # With no region the SDK asks the server for the bucket's location first.
    store = make_s3_store(region=None)
    assert not store.exists("a.jpg")
    store.put("a.jpg", b"1")
    assert requests.get(store.presigned_url("a.jpg"), timeout=10).content == b"1"


def test_server_errors_other_than_missing_key_become_storage_error(s3_store: S3Store) -> None:
    s3_store.put("a.jpg", b"1")
    s3_store.delete("a.jpg")
    # Remove the bucket behind the store's back: the store believes it exists,
    # so the next put meets NoSuchBucket, which is a failure, not a missing key.
    admin = Minio(s3_store.endpoint, "k", "s", secure=False, region=s3_store.region)
    admin.remove_bucket(s3_store.bucket)
    with pytest.raises(StorageError) as caught:
        s3_store.put("b.jpg", b"2")
    assert not isinstance(caught.value, ObjectNotFound)
    assert caught.value.__cause__ is not None


def test_unreachable_server_fails_fast_with_storage_error() -> None:
    # A bound socket that never listens makes the kernel refuse connections,
    # and nothing else can take the port while we hold it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        store = S3Store(f"127.0.0.1:{port}", "k", "secret-never-shown", "photos", secure=False, region="us-east-1")
        # put goes through bucket creation, get through the object path.
        for operation in (lambda: store.put("a.jpg", b"1"), lambda: store.get("a.jpg")):
            started = time.monotonic()
            with pytest.raises(StorageError) as caught:
                operation()
            assert time.monotonic() - started < 5
            assert "secret-never-shown" not in str(caught.value)
