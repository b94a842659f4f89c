"""open_store: turning configuration URLs into stores without leaking credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import LocalStore, S3Store, open_store

SECRET = "wJalr/XUtnFEMI+K7MDENG=bPxRfiCY"


def test_file_url_with_absolute_path(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/objects")
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "objects"


def test_file_url_with_relative_path_is_resolved_against_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("file:data/photos")
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "data" / "photos"
    # Resolved once, so a later chdir does not move the store.
    monkeypatch.chdir("/")
    store.put("a.jpg", b"1")
    assert (tmp_path / "data" / "photos" / "a.jpg").read_bytes() == b"1"


def test_file_url_percent_decodes_the_path(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/with%20space")
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "with space"


def test_s3_url_with_all_options() -> None:
    encoded = SECRET.replace("/", "%2F").replace("+", "%2B").replace("=", "%3D")
    store = open_store(f"s3://AKIA%2Btest:{encoded}@minio.internal:9000/face-photos?secure=false&region=eu-central-1")
    assert isinstance(store, S3Store)
    assert store.endpoint == "minio.internal:9000"
    assert store.bucket == "face-photos"
    assert store.secure is False
    assert store.region == "eu-central-1"
    assert SECRET not in repr(store)
    assert encoded not in repr(store)
    assert SECRET not in str(vars(store))


def test_s3_url_defaults_to_tls_and_no_region() -> None:
    store = open_store(f"s3://key:{SECRET.replace('/', '%2F')}@s3.example.org/photos")
    assert isinstance(store, S3Store)
    assert store.endpoint == "s3.example.org"
    assert store.secure is True
    assert store.region is None


def test_s3_url_with_ipv6_host() -> None:
    store = open_store("s3://key:secret@[::1]:9000/photos?secure=0")
    assert isinstance(store, S3Store)
    assert store.endpoint == "[::1]:9000"


def test_s3_store_round_trips_through_its_url(s3_endpoint: str) -> None:
    store = open_store(f"s3://key:{SECRET.replace('/', '%2F')}@{s3_endpoint}/from-url?secure=false&region=us-east-1")
    store.put("a.jpg", b"1")
    assert store.get("a.jpg") == b"1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://host/bucket", "unsupported storage URL scheme 'http'"),
        ("photos", "unsupported storage URL scheme ''"),
        ("file://remote-host/dir", "remote host"),
        ("file:", "no directory"),
        ("file:///dir?x=1", "no query"),
        (f"s3://{SECRET}@host/bucket", "ACCESS:SECRET"),
        ("s3://host/bucket", "ACCESS:SECRET"),
        # An unescaped '/' ends the authority early, so the credentials vanish.
        (f"s3://key:{SECRET}@host/bucket", "percent-encoded"),
        ("s3://key:secret@host", "one bucket"),
        ("s3://key:secret@host/a/b", "one bucket"),
        ("s3://key:secret@host/bucket?secrue=false", "unknown s3:// storage URL options: secrue"),
        ("s3://key:secret@host/bucket?secure=maybe", "true or false"),
        ("s3://key:secret@host:99999/bucket", "Port out of range"),
        ("s3://key:secret@/bucket", "no host"),
    ],
)
def test_bad_urls_raise_value_error_without_the_secret(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("?", r"\?")) as caught:
        open_store(url)
    assert SECRET not in str(caught.value)
    assert "cret" not in str(caught.value).replace("SECRET", "")
