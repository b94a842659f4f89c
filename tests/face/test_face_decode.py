"""decode_image on the real test photos and on hostile or odd uploads."""

from __future__ import annotations

import io
import resource
import struct
import zlib

import face_recognition  # noqa: F401  (imported for its side effect on Pillow, which decode must undo)
import numpy as np
import pytest
from PIL import Image, ImageFile

from tests.support.photos import PHOTO_NAMES, photo_bytes
from worker.face.detect import detect_faces, find_faces
from worker.face.image import ImageRejected, decode_image

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}


def png_claiming(width: int, height: int) -> bytes:
    """A valid all-black 1-bit greyscale PNG of the given size that compresses to a few KB per 1000 rows."""
    compressor = zlib.compressobj(9)
    rows = (b"\0" * (1 + (width + 7) // 8)) * 1000
    idat = b"".join(compressor.compress(rows) for _ in range(height // 1000)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    """Save a Pillow image to bytes."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def rejection(data: bytes, **limits: int) -> str:
    """The rejection code decode_image raises for data."""
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, **{**LIMITS, **limits})
    assert caught.value.message
    return caught.value.code


@pytest.fixture(scope="module")
def obama() -> np.ndarray:
    """obama.jpg decoded once for this module."""
    return decode_image(photo_bytes("obama.jpg"), **LIMITS)


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_real_photos_decode_to_rgb(name: str) -> None:
    data = photo_bytes(name)
    width, height = Image.open(io.BytesIO(data)).size
    rgb = decode_image(data, **LIMITS)
    assert rgb.shape == (height, width, 3)
    assert rgb.dtype == np.uint8
    assert rgb.flags.c_contiguous and rgb.flags.writeable


def test_32bit_png_becomes_rgb_matching_its_jpeg_twin() -> None:
    assert Image.open(io.BytesIO(photo_bytes("32bit.png"))).mode == "RGBA"
    png = decode_image(photo_bytes("32bit.png"), **LIMITS)
    jpeg = decode_image(photo_bytes("obama2.jpg"), **LIMITS)
    assert png.shape == jpeg.shape
    assert np.abs(png.astype(int) - jpeg.astype(int)).mean() < 5


def test_empty_and_oversized_files() -> None:
    data = photo_bytes("obama.jpg")
    assert rejection(b"") == "empty_file"
    assert rejection(data, max_bytes=len(data) - 1) == "file_too_large"
    assert decode_image(data, **{**LIMITS, "max_bytes": len(data)}).shape[2] == 3


def test_text_is_not_an_image() -> None:
    assert rejection(b"name,photo\nAlice,alice.jpg\n" * 20) == "not_an_image"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_unsupported(obama: np.ndarray, fmt: str) -> None:
    data = encoded(Image.fromarray(obama[::4, ::4]), fmt)
    assert rejection(data) == "unsupported_format"


def test_webp_and_multi_picture_jpeg_are_accepted(obama: np.ndarray) -> None:
    image = Image.fromarray(obama)
    webp = decode_image(encoded(image, "WEBP", quality=90), **LIMITS)
    assert webp.shape == obama.shape
    mpo = encoded(image, "MPO", save_all=True, append_images=[image.reduce(4)])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    assert decode_image(mpo, **LIMITS).shape == obama.shape


def test_truncated_jpeg_is_rejected_even_if_pillow_was_told_to_allow_it(monkeypatch: pytest.MonkeyPatch) -> None:
    data = photo_bytes("obama.jpg")
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert rejection(data[: len(data) // 2]) == "truncated_image"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_importing_the_face_modules_keeps_pillow_strict() -> None:
    # face_recognition turns this on at import; worker.face.detect (imported above) turns it back off.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_png_is_rejected() -> None:
    data = photo_bytes("32bit.png")
    assert rejection(data[: len(data) // 2]) == "truncated_image"


def test_huge_png_is_rejected_from_its_header_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = png_claiming(30_000, 30_000)
    assert len(data) < 200_000
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Pillow's own bomb guard refuses 900 megapixels as soon as the header is read.
    assert rejection(data, max_pixels=10**12) == "image_too_large"
    # With that guard switched off, the caller's max_pixels still stops it before decoding.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert Image.open(io.BytesIO(data)).size == (30_000, 30_000)
    assert rejection(data) == "image_too_large"
    # Decoding would have needed ~900 MB; nothing near that was allocated.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kib < 100 * 1024


def test_pillow_bomb_warning_zone_is_rejected() -> None:
    data = png_claiming(10_000, 10_000)
    assert Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < 10_000 * 10_000
    with pytest.warns(Image.DecompressionBombWarning):
        assert rejection(data, max_pixels=10**12) == "image_too_large"


def test_tiny_image_is_too_small(obama: np.ndarray) -> None:
    data = encoded(Image.fromarray(obama).resize((63, 200)), "PNG")
    assert rejection(data) == "image_too_small"


@pytest.mark.parametrize(
    ("orientation", "stored_as"), [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270)]
)
def test_exif_orientation_is_applied(obama: np.ndarray, orientation: int, stored_as: Image.Transpose) -> None:
    sideways = Image.fromarray(obama).transpose(stored_as)
    assert not _eyes_level(np.asarray(sideways))
    exif = Image.Exif()
    exif[0x0112] = orientation
    upright = decode_image(encoded(sideways, "JPEG", quality=95, exif=exif.tobytes()), **LIMITS)
    assert upright.shape == obama.shape
    assert np.abs(upright.astype(int) - obama.astype(int)).mean() < 5
    assert len(detect_faces(upright)) == 1
    assert _eyes_level(upright)


def _eyes_level(rgb: np.ndarray) -> bool:
    """Whether the face stands upright: its outer eye corners lie side by side, not one above the other."""
    (face,) = find_faces(rgb)
    dx, dy = face.points68[45] - face.points68[36]
    return abs(dx) > 2 * abs(dy)


def test_other_modes_convert_to_rgb() -> None:
    grey16 = decode_image(encoded(Image.fromarray(np.full((80, 90), 40_000, np.uint16)), "PNG"), **LIMITS)
    assert grey16.shape == (80, 90, 3)
    assert (grey16 == 40_000 >> 8).all()

    grey = decode_image(encoded(Image.new("L", (90, 80), 77), "PNG"), **LIMITS)
    assert (grey == 77).all()

    clear = decode_image(encoded(Image.new("RGBA", (90, 80), (0, 0, 0, 0)), "PNG"), **LIMITS)
    assert (clear == 255).all()

    palette = Image.new("P", (90, 80), 0)
    palette.putpalette([0, 0, 0, 200, 10, 10] + [0, 0, 0] * 254)
    palette.paste(1, (0, 0, 45, 80))
    decoded = decode_image(encoded(palette, "PNG", transparency=0), **LIMITS)
    assert (decoded[:, :45] == (200, 10, 10)).all()
    assert (decoded[:, 45:] == 255).all()
