"""Where benchmarks find face photos: a folder given on the command line, or the test suite's cache."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

# Photos and frames a bench decodes: the suite's and the development set's, well inside these.
DECODE_LIMITS = {"max_bytes": 50_000_000, "max_pixels": 40_000_000}
# The suite fetches face_recognition 1.3.0's test photos here (tests/support/photos.py); a
# checkout that ran the tests has them, an installed wheel is given a folder.
SUITE_PHOTOS = Path(__file__).resolve().parents[1] / ".cache" / "test-photos"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def faces_dir(explicit: Path | None = None) -> Path:
    """The folder to read faces from, or a usage error saying how to give one."""
    if explicit is not None:
        return explicit
    if SUITE_PHOTOS.is_dir():
        return SUITE_PHOTOS
    raise click.UsageError(f"no face photos: pass --faces DIR (or run the test suite once to fill {SUITE_PHOTOS})")


def photo(name: str, folder: Path | None = None) -> bytes:
    """The bytes of one photo of the folder."""
    return (faces_dir(folder) / name).read_bytes()


def photos(folder: Path) -> list[Path]:
    """Every image under folder (recursively), in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def enrolment_template(name: str, folder: Path | None = None) -> np.ndarray:
    """The template enrolment stores for one photo of the folder (its first face)."""
    from worker.face.detect import detect_faces
    from worker.face.encode import encode_enrolment_face
    from worker.face.image import decode_image

    rgb = decode_image(photo(name, folder), **DECODE_LIMITS)
    return encode_enrolment_face(rgb, detect_faces(rgb)[0])
