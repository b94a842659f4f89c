"""Headers every response carries: what a browser may load, frame, sniff, refer and keep."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request

# The console is server-rendered and the phone app is served from the same origin: scripts, styles,
# fonts and API calls come from here only, no inline script; the camera's frames are drawn into
# canvases and previews as blob: and data: URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
FIXED_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Addresses (many name a person) never go to another site. The console's own forms send theirs: over HTTPS
    # Flask-WTF's CSRF check refuses a form without a Referer from this console (with "no-referrer", every
    # sign-in behind an office's HTTPS proxy was refused).
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _docs_policy(page: bytes) -> str:
    """Swagger UI's page (flask-smorest's template, filled from the app's own settings) starts itself
    with an inline script: allow exactly that script, by its hash, and the inline styles it sets."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src 'self' {hashes}").replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )


def _secure(response: Response) -> Response:
    if request.endpoint == DOCS_ENDPOINT:
        response.headers["Content-Security-Policy"] = _docs_policy(response.get_data())
    for name, value in FIXED_HEADERS.items():
        response.headers.setdefault(name, value)
    # Only a response that came over HTTPS may pin HTTPS (behind a proxy: as FIELDCHECK_PROXIES lets it say).
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    # Everything under /api is about people or their cases: no browser or proxy keeps a copy.
    if request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure)
