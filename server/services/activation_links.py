"""The link (and its QR code) that opens the phone app with a one-time activation code filled in."""

from __future__ import annotations

import io
from urllib.parse import quote

import segno

APP_PATH = "/m/"
MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def activation_url(base_url: str, code: str) -> str:
    """The app's activation screen; the code rides in the #fragment, so it never reaches a server log."""
    return f"{base_url.rstrip('/')}{APP_PATH}#/activate?code={quote(code)}"


def qr_code(url: str, fmt: str) -> tuple[bytes, str]:
    """A QR code of the link as SVG or PNG, large enough to scan off a printed slip."""
    # Error correction M survives a crumpled or smudged slip; the code is short, so the symbol stays small.
    qr = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind=fmt, scale=8, border=4)
    return buffer.getvalue(), MEDIA_TYPES[fmt]
