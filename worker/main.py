"""Entry point for the Celery command line: `celery -A worker.main worker`."""

from server.app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["fieldcheck.celery"]
