"""The application factory: the whole wiring on one screen."""

from __future__ import annotations

from flask import Flask

from server import celery_app, db
from server.config import Settings
from server.crypto import DataCipher
from storage import open_store


def create_app(settings: Settings | None = None, *, http: bool = True) -> Flask:
    """Build the app (API and console); the same app backs the Celery worker and the CLI.

    With `http=False` it has no routes, pages or request middleware: all a command needs (settings,
    keys, store, database, Celery), built without importing the API, the console and their libraries.
    """
    settings = settings or Settings.from_env()
    app = Flask("fieldcheck", instance_path=str(settings.instance_path))
    app.config["FIELDCHECK"] = settings
    # Five photos at the per-file limit, plus form overhead.
    app.config["MAX_CONTENT_LENGTH"] = (
        settings.uploads.max_bytes * settings.uploads.max_photos_per_beneficiary + 1024 * 1024
    )
    app.extensions["fieldcheck.cipher"] = DataCipher(settings.data_key)
    app.extensions["fieldcheck.store"] = open_store(settings.storage_url)
    db.init_app(app)
    if http:
        from server import api, pwa, security_headers, web
        from server.api import throttle

        api.init_app(app)
        web.init_app(app)
        pwa.init_app(app)
        security_headers.init_app(app)
        throttle.init_app(app)
    celery_app.init_app(app)
    return app
