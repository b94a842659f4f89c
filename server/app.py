"""The application factory: the whole wiring on one screen."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from server.config import Settings


def create_app(settings: Settings | None = None, *, http: bool = True) -> Flask:
    """Build the app (API and console); the same app backs the Celery worker and the CLI.

    With `http=False` it has no routes, pages or request middleware: all a command needs (settings,
    keys, store, database, Celery), built without importing the API, the console and their libraries.
    """
    # Building the app imports its libraries and creates some 140,000 objects (modules, classes, mapped
    # tables, routes) that live as long as the process; none of them is garbage, yet the cyclic collector
    # would scan them all, over and over as they pile up: some 300 collections, a fifth of the CPU
    # start-up costs. The imports are made here, inside the pause, rather than at the top of the module.
    # Frozen afterwards, they are never scanned again: not by the first collection after the pause, nor
    # in each worker a preloading gunicorn forks (which would also copy every page it touched).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(settings, http=http)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def _build(settings: Settings | None, *, http: bool) -> Flask:
    from flask import Flask

    from server import celery_app, db
    from server.config import Settings
    from server.crypto import DataCipher
    from storage import open_store

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
        if settings.proxies:
            from werkzeug.middleware.proxy_fix import ProxyFix

            # The client's address, scheme and host, as the proxies in front say (throttling, the audit of
            # failed logins, Secure cookies, HSTS and the activation links need them).
            hops = settings.proxies
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    celery_app.init_app(app)
    return app
