"""The Celery app, built from the Flask app so every task runs inside its application context."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from celery import Celery

# Often enough that a dead worker's row (a lease of FIELDCHECK_TASK_LEASE_SECONDS) is handed out
# again within seconds; the duty is two indexed queries.
REQUEUE_EVERY_SECONDS = 5.0
# The sweep and the reminders are idempotent: running them hourly only bounds how late they act.
HOURLY = 3600.0


def init_app(app: Flask) -> None:
    """Keep the Flask app's Celery app in app.extensions["fieldcheck.celery"], built when first used.

    Building it imports Celery and kombu, about a tenth of every process's start-up, while most commands
    and requests send no task: the entry is a proxy that builds the Celery app on its first attribute
    access (a task sent, a worker or beat started) and is that app from then on.
    """
    lock = threading.Lock()
    built: list[Celery] = []

    def celery() -> Celery:
        if not built:
            with lock:
                if not built:
                    built.append(_build(app))
        return built[0]

    app.extensions["fieldcheck.celery"] = LocalProxy(celery)


def _build(app: Flask) -> Celery:
    from celery import Celery, Task

    settings = app.config["FIELDCHECK"]

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        # Tasks are idempotent (a conditional state change decides who works), so redelivery is safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Face work is long and CPU-bound: take one message at a time.
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        beat_schedule_filename=str(settings.instance_path / "celerybeat-schedule"),
        beat_schedule={
            "requeue-stale-work": {
                "task": "fieldcheck.requeue_stale_work",
                "schedule": REQUEUE_EVERY_SECONDS,
                # A backlog of this duty is pointless: the next run covers the same rows.
                "options": {"expires": REQUEUE_EVERY_SECONDS},
            },
            "sweep-missed-checkins": {
                "task": "fieldcheck.sweep_missed_checkins",
                "schedule": HOURLY,
                "options": {"expires": HOURLY},
            },
            # Apart from the registration it reviews, so the township's view of it is that of any new one.
            "open-duplicate-registration-cases": {
                "task": "fieldcheck.open_duplicate_registration_cases",
                "schedule": HOURLY,
                "options": {"expires": HOURLY},
            },
            "send-reminders": {
                "task": "fieldcheck.send_reminders",
                "schedule": HOURLY,
                "options": {"expires": HOURLY},
            },
            # Idempotent and bounded per run (FIELDCHECK_RETENTION_BATCH): hourly lets it catch up.
            "purge-expired-biometrics": {
                "task": "fieldcheck.purge_expired_biometrics",
                "schedule": HOURLY,
                "options": {"expires": HOURLY},
            },
        },
        imports=("worker.tasks",),
    )
    celery.set_default()
    return celery
