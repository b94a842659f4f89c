"""The beneficiary's check-in app at /m/: static files (no build step, nothing from a CDN) over the API."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory

STATIC = Path(__file__).parent / "static"
blp = Blueprint("pwa", __name__, url_prefix="/m")


# Only the app's own files and the API: nothing injected runs, and no page may frame the app.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _no_cache(response: Response) -> Response:
    # The shell and the service worker must be revalidated on every load, or a phone keeps an old app forever;
    # the service worker serves them from its cache when the network is down.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.route("/")
def index() -> Response:
    return _no_cache(send_from_directory(STATIC, "index.html"))


@blp.route("/<path:filename>")
def asset(filename: str) -> Response:
    response = send_from_directory(STATIC, filename)
    if filename.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    if filename == "sw.js":
        # Lets the worker control all of /m/ although it is served from it.
        response.headers["Service-Worker-Allowed"] = "/m/"
    return _no_cache(response)


def init_app(app: Flask) -> None:
    app.register_blueprint(blp)
