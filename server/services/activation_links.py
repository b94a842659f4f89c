"""The link (and its QR code) that opens the phone app with a one-time activation code filled in."""

from __future__ import annotations

import io
from urllib.parse import quote

from sqlalchemy import select

from server.context import Ctx
from server.models import Device
from server.services.audit import Actor
from server.services.auth import normalise_activation_code
from server.services.beneficiaries import get_beneficiary
from server.services.errors import NotFound

APP_PATH = "/m/"
MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def activation_url(base_url: str, code: str) -> str:
    """The app's activation screen; the code rides in the #fragment, so it never reaches a server log."""
    return f"{base_url.rstrip('/')}{APP_PATH}#/activate?code={quote(code)}"


def qr_code(url: str, fmt: str) -> tuple[bytes, str]:
    """A QR code of the link as SVG or PNG, large enough to scan off a printed slip."""
    import segno

    # Error correction M survives a crumpled or smudged slip; the code is short, so the symbol stays small.
    qr = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind=fmt, scale=8, border=4)
    return buffer.getvalue(), MEDIA_TYPES[fmt]


def qr_for_code(ctx: Ctx, *, actor: Actor, code: str, base_url: str, fmt: str) -> tuple[bytes, str]:
    """The QR code of a pending code's link, for staff of the person's region only."""
    code = normalise_activation_code(code)
    device = ctx.session.scalar(select(Device).where(Device.activation_code_index == ctx.cipher.index(code)))
    if device is None:
        raise NotFound("no such pending activation code", {"code": ["invalid_activation_code"]})
    # A code of someone outside your region answers like an unknown one.
    get_beneficiary(ctx, actor=actor, beneficiary_id=device.beneficiary_id)
    return qr_code(activation_url(base_url, code), fmt)
