"""An ObjectStore backed by an S3-compatible server (MinIO in production) via the minio SDK."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from minio.helpers import check_bucket_name

from storage.base import ObjectNotFound, StorageError, validate_key, validate_method

# The SDK's own default waits five minutes to connect and retries five times;
# a request handler must fail fast instead of holding a worker for minutes.
_CONNECT_TIMEOUT_S = 5.0
_READ_TIMEOUT_S = 30.0
_RETRY = urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504))

# The bucket is created lazily on first write, so a fresh store has no bucket
# yet and must still behave as an empty store rather than fail.
_MISSING = frozenset({"NoSuchKey", "NoSuchBucket"})


class S3Store:
    """Objects stored in one bucket of an S3-compatible server."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = True,
        region: str | None = None,
    ) -> None:
        """Build the client; no request is made until the first operation."""
        check_bucket_name(bucket)
        self.endpoint = endpoint
        self.bucket = bucket
        self.secure = secure
        self.region = region
        self._bucket_ready = False
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=_CONNECT_TIMEOUT_S, read=_READ_TIMEOUT_S),
            retries=_RETRY,
            maxsize=10,
        )
        # The secret lives only inside the client so it cannot leak via repr or vars().
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )

    def __repr__(self) -> str:
        """Show where the store points, never its credentials."""
        scheme = "https" if self.secure else "http"
        return f"S3Store(endpoint={scheme}://{self.endpoint}, bucket={self.bucket!r})"

    @contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """Turn SDK and transport failures into StorageError."""
        target = f"{self.bucket}/{key}" if key else self.bucket
        try:
            yield
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise StorageError(f"S3 {action} of {target!r} at {self.endpoint} failed: {exc}") from exc

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet."""
        with self._errors("bucket creation"):
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket, location=self.region)
                except S3Error as exc:
                    # Another worker may have created it between the two calls.
                    if exc.code != "BucketAlreadyOwnedByYou":
                        raise
        self._bucket_ready = True

    def _ready(self) -> None:
        """Create the bucket once per store before the first write."""
        if not self._bucket_ready:
            self.ensure_bucket()

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Upload data under key with the given Content-Type."""
        validate_key(key)
        self._ready()
        with self._errors("put", key):
            self._client.put_object(self.bucket, key, io.BytesIO(data), length=len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        """Return the bytes stored under key or raise ObjectNotFound."""
        validate_key(key)
        with self._errors("get", key):
            try:
                response = self._client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING:
                    raise ObjectNotFound(f"no object under key {key!r}") from exc
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def delete(self, key: str) -> None:
        """Remove the object; a missing key or bucket is not an error."""
        validate_key(key)
        with self._errors("delete", key):
            try:
                self._client.remove_object(self.bucket, key)
            except S3Error as exc:
                if exc.code not in _MISSING:
                    raise

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under key."""
        validate_key(key)
        with self._errors("stat", key):
            try:
                self._client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING:
                    return False
                raise
        return True

    def walk(self) -> Iterator[str]:
        """Every key in the bucket (none if it does not exist yet)."""
        with self._errors("list"):
            try:
                for item in self._client.list_objects(self.bucket, recursive=True):
                    yield item.object_name
            except S3Error as exc:
                if exc.code != "NoSuchBucket":
                    raise

    def presigned_url(
        self,
        key: str,
        *,
        method: str = "GET",
        expires: timedelta = timedelta(minutes=15),
        content_type: str | None = None,
    ) -> str:
        """Return a SigV4 query-signed URL; for GET, content_type overrides the response's Content-Type.

        For PUT the SDK signs only the Host header, so content_type cannot be
        enforced: the uploader must send its own Content-Type, which is stored.
        """
        validate_key(key)
        method = validate_method(method)
        # An upload to a missing bucket would fail, and without a configured
        # region the SDK signs with the region it looks up from the bucket.
        self._ready()
        if method == "PUT":
            with self._errors("presign PUT", key):
                return self._client.presigned_put_object(self.bucket, key, expires=expires)
        response_headers = {"response-content-type": content_type} if content_type else None
        with self._errors("presign GET", key):
            return self._client.get_presigned_url(
                "GET", self.bucket, key, expires=expires, response_headers=response_headers
            )
