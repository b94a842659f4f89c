"""Handing work to the worker after the database has committed it.

The database is the truth and the broker only a doorbell: if the broker is down the row stays
in `received` and the worker's requeue duty sends it again, so a failed send is logged, not raised.
"""

from __future__ import annotations

import logging

from flask import current_app

log = logging.getLogger(__name__)


def enqueue(task_name: str, *args: str) -> bool:
    """Send a task by name; returns whether the broker took it."""
    celery = current_app.extensions["fieldcheck.celery"]
    try:
        celery.send_task(task_name, args=list(args))
    except Exception:
        log.warning("broker refused %s; the requeue duty will retry it", task_name, exc_info=True)
        return False
    return True
