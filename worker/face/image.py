"""Decode untrusted uploaded photos into RGB arrays, rejecting anything unsafe or unusable."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# Pillow reports the multi-picture JPEGs many phone cameras write as "MPO"; they open as JPEG.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
MIN_SIDE_PX = 64
CONTENT_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class ImageRejected(Exception):
    """An uploaded image that cannot be used, with a stable machine-readable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int) -> np.ndarray:
    """Decode JPEG/PNG/WebP bytes into an upright H×W×3 uint8 RGB array or raise ImageRejected."""
    image = _opened_within_limits(data, max_bytes=max_bytes, max_pixels=max_pixels)
    _load(image)
    # In place: a copy of every frame of a check-in (most need no turning) is time for nothing.
    ImageOps.exif_transpose(image, in_place=True)
    return _to_rgb_array(image)


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> tuple[int, int]:
    """Reject what decode_image would reject, without decoding at full size; returns (width, height).

    A JPEG is decoded in draft mode at an eighth of its size: every byte of its compressed data is
    still read (a truncated or corrupt file fails as it would in full) in about a third of the time. For
    intake, where the worker decodes the image in full later; other formats are decoded in full.
    """
    image = _opened_within_limits(data, max_bytes=max_bytes, max_pixels=max_pixels)
    width, height = image.size
    if image.format in ("JPEG", "MPO"):
        image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
    _load(image)
    return width, height


def _opened_within_limits(data: bytes, *, max_bytes: int, max_pixels: int) -> Image.Image:
    """The image opened from its header, its size checked; nothing decoded yet."""
    if not data:
        raise ImageRejected("empty_file", "The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected("file_too_large", f"The file is larger than {max_bytes} bytes.")

    image = _open(data)
    width, height = image.size
    pixels = width * height
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat the warning zone as a
    # rejection too, without touching the process-wide warning filters.
    limit = max_pixels if Image.MAX_IMAGE_PIXELS is None else min(max_pixels, Image.MAX_IMAGE_PIXELS)
    if pixels > limit:
        raise ImageRejected("image_too_large", f"The image has more than {limit} pixels.")
    if min(width, height) < MIN_SIDE_PX:
        raise ImageRejected("image_too_small", f"The image is smaller than {MIN_SIDE_PX} px on a side.")
    return image


def _load(image: Image.Image) -> None:
    # face_recognition sets this to True when imported; a truncated upload must fail, not be padded grey.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected("truncated_image", "The image data is truncated or corrupt.") from exc


def content_type(data: bytes) -> str:
    """The MIME type of bytes that decode_image accepted."""
    return CONTENT_TYPES[_open(data).format]


def _open(data: bytes) -> Image.Image:
    """Open only the allowed formats' parsers, then tell other formats apart from non-images."""
    try:
        return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageRejected("image_too_large", "The image has too many pixels.") from exc
    except UnidentifiedImageError:
        pass
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected("truncated_image", "The image header is truncated or corrupt.") from exc

    try:
        # Header-only identification: the pixels of other formats are never decoded.
        other = Image.open(io.BytesIO(data))
    except Exception:
        # Any plugin failing to parse the header means the same thing to the uploader.
        raise ImageRejected("not_an_image", "The file is not an image.") from None
    raise ImageRejected("unsupported_format", f"{other.format} images are not accepted; use JPEG, PNG or WebP.")


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to a contiguous RGB uint8 array."""
    if image.mode.startswith("I;16"):
        # Pillow clips 16-bit grey to 255 when converting, which would turn the photo white.
        grey = np.asarray(image).astype(np.uint16) >> 8
        image = Image.fromarray(grey.astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent backgrounds go white, as on a printed ID photo, rather than black.
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return np.array(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)
