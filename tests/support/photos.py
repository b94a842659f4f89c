"""Real face photos for tests, taken from face_recognition 1.3.0's source distribution."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDIST_REQUIREMENT = "face_recognition==1.3.0"
SDIST_SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
PHOTO_NAMES = (
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "obama_partial_face.jpg",
    "obama_partial_face2.jpg",
    "32bit.png",
)

_REPO_ROOT = Path(__file__).resolve().parents[2]
_CACHE_ROOT = _REPO_ROOT / ".cache"
_PHOTOS = _CACHE_ROOT / "test-photos"


def photos_dir() -> Path:
    """Return the folder holding the test photos, downloading them on first use."""
    if _complete(_PHOTOS):
        return _PHOTOS
    _CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    # Serialise concurrent test processes so only one downloads; the rename keeps readers
    # that skip the lock from ever seeing a half-extracted folder.
    with open(_CACHE_ROOT / "test-photos.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _complete(_PHOTOS):
            _fetch_into(_PHOTOS)
    return _PHOTOS


def photo_bytes(name: str) -> bytes:
    """Return the raw bytes of one test photo."""
    if name not in PHOTO_NAMES:
        raise KeyError(f"unknown test photo {name!r}; have {', '.join(PHOTO_NAMES)}")
    return (photos_dir() / name).read_bytes()


def _complete(folder: Path) -> bool:
    """Whether every expected photo is present and non-empty."""
    return all((folder / name).is_file() and (folder / name).stat().st_size > 0 for name in PHOTO_NAMES)


def _fetch_into(target: Path) -> None:
    """Download the sdist, check its hash and move its test photos into target atomically."""
    with (
        tempfile.TemporaryDirectory(prefix="fr-sdist-") as download,
        tempfile.TemporaryDirectory(prefix="test-photos-", dir=target.parent) as staging,
    ):
        archive = _download_sdist(Path(download))
        _extract_photos(archive, Path(staging) / "photos")
        if target.exists():
            shutil.rmtree(target)
        os.replace(Path(staging) / "photos", target)


def _download_sdist(folder: Path) -> Path:
    """Fetch the pinned source distribution with pip and verify it byte for byte."""
    # --require-hashes makes pip check the archive before it runs any of its build steps.
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{SDIST_REQUIREMENT} --hash=sha256:{SDIST_SHA256}\n")
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--require-hashes",
        "-r", str(requirements), "-d", str(folder),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        output = f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        raise RuntimeError(f"pip download of {SDIST_REQUIREMENT} failed:\n{output}")
    archives = sorted(folder.glob("face_recognition-1.3.0.tar.gz"))
    if len(archives) != 1:
        raise RuntimeError(f"pip download left {[p.name for p in folder.iterdir()]}, expected the 1.3.0 sdist")
    digest = hashlib.sha256(archives[0].read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise RuntimeError(f"{archives[0].name} has sha256 {digest}, expected {SDIST_SHA256}; refusing to use it")
    return archives[0]


def _extract_photos(archive: Path, destination: Path) -> None:
    """Copy only tests/test_images/<name> members out of the archive, by our own file names."""
    destination.mkdir()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if member.isfile() and parts[1:-1] == ["tests", "test_images"] and parts[-1] in PHOTO_NAMES:
                source = tar.extractfile(member)
                assert source is not None
                (destination / parts[-1]).write_bytes(source.read())
    if not _complete(destination):
        missing = [name for name in PHOTO_NAMES if not (destination / name).is_file()]
        raise RuntimeError(f"{archive.name} lacks test photos {missing}")
