"""Shared fixtures: an in-process S3 server and one store per backend."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from storage import LocalStore, ObjectStore, S3Store

# moto (like s3rver) does not check request signatures, so the S3 tests prove
# the SDK calls, the URL shapes and our error mapping, not MinIO's
# authentication; production runs real MinIO from docker-compose.
ACCESS_KEY = "fieldcheck-test"
SECRET_KEY = "not-a-real-secret-4f9c"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Run moto's S3 in a thread on a free loopback port and yield host:port."""
    # port=0 lets the kernel pick a free port; get_host_and_port reports it.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def make_s3_store(s3_endpoint: str) -> Callable[..., S3Store]:
    """Return a factory of stores on buckets no other test uses, so tests never see each other's objects."""

    def make(*, region: str | None = REGION) -> S3Store:
        bucket = f"fc-test-{uuid.uuid4().hex[:16]}"
        return S3Store(s3_endpoint, ACCESS_KEY, SECRET_KEY, bucket, secure=False, region=region)

    return make


@pytest.fixture
def s3_store(make_s3_store: Callable[..., S3Store]) -> S3Store:
    """An S3Store on a fresh, not yet created bucket."""
    return make_s3_store()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    """A LocalStore whose root does not exist yet."""
    return LocalStore(tmp_path / "objects")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    """Each backend in turn, for the contract tests."""
    return request.getfixturevalue(f"{request.param}_store")
