"""An ObjectStore that keeps each object as a file under one directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from storage.base import ObjectNotFound, StorageError, validate_key, validate_method

# Face photos are personal data: only the service account may read them.
_DIR_MODE = 0o700


class LocalStore:
    """Objects stored as files below root; for development, tests and single-host installs."""

    def __init__(self, root: Path) -> None:
        """Remember root; the directory is created on first write."""
        self.root = Path(root)

    def __repr__(self) -> str:
        """Show the root directory."""
        return f"LocalStore(root={str(self.root)!r})"

    def _path(self, key: str) -> Path:
        """Map a validated key to its file path."""
        return self.root.joinpath(*validate_key(key).split("/"))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write data atomically under key with mode 0600, durable when it returns; content_type is not kept.

        The file is synced before it is renamed into place, and its directory after (with the parent of
        every directory made for it, which gained an entry).
        """
        path = self._path(key)
        made = self._make_dirs(path.parent)
        try:
            # mkstemp creates the file 0600 with O_EXCL, so no reader ever sees a half-written or
            # world-readable object.
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as exc:
            raise StorageError(f"cannot prepare a file for key {key!r}: {exc}") from exc
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp_name, path)
            for directory in (path.parent, *(directory.parent for directory in made)):
                self._sync_dir(directory)
        except OSError as exc:
            Path(tmp_name).unlink(missing_ok=True)
            raise StorageError(f"cannot write key {key!r}: {exc}") from exc

    def _make_dirs(self, directory: Path) -> list[Path]:
        """Create directory (0700, with missing parents); the directories it created."""
        missing = []
        for candidate in (directory, *directory.parents):
            if candidate.is_dir():
                break
            missing.append(candidate)
        try:
            # One by one: mkdir(parents=True) would give the parents the default mode, not 0700.
            for made in reversed(missing):
                made.mkdir(mode=_DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the directory {directory}: {exc}") from exc
        return missing

    @staticmethod
    def _sync_dir(directory: Path) -> None:
        """Flush the directory's entries so renames into it survive a crash."""
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def get(self, key: str) -> bytes:
        """Return the bytes stored under key or raise ObjectNotFound."""
        path = self._path(key)
        try:
            return path.read_bytes()
        # A directory or a file in the middle of the path means "some other
        # key's prefix", which to callers is simply a missing object.
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object under key {key!r}") from exc
        except OSError as exc:
            raise StorageError(f"cannot read key {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        """Remove the file for key; a missing key is not an error."""
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return
        except OSError as exc:
            raise StorageError(f"cannot delete key {key!r}: {exc}") from exc

    def exists(self, key: str) -> bool:
        """Tell whether a file is stored under key."""
        path = self._path(key)
        try:
            return path.is_file()
        except OSError as exc:
            raise StorageError(f"cannot inspect key {key!r}: {exc}") from exc

    def walk(self) -> Iterator[str]:
        """Every stored key: the files below root, without the temporary ones a write in progress makes."""
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                yield path.relative_to(self.root).as_posix()

    def presigned_url(
        self,
        key: str,
        *,
        method: str = "GET",
        expires: timedelta = timedelta(minutes=15),
        content_type: str | None = None,
    ) -> str:
        """Return the object's file:// URI; only usable on this machine, and it never expires."""
        validate_method(method)
        return self._path(key).absolute().as_uri()
