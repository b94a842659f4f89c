"""How `fieldcheck serve` runs the API under gunicorn (also timed by `fieldcheck bench startup`)."""

from __future__ import annotations

import os
import sys

# The app is built once in gunicorn's master and forked into the workers: a worker answers as soon as
# it is forked instead of importing the whole app itself (seconds, on two cores shared by four
# workers), and the workers share the master's imported code. Nothing opens a database connection or
# a socket while the app is built, so no connection is inherited across the fork.
APP = "server.app:create_app()"


def default_workers() -> int:
    """Two sync workers per core this process may use, and one more (gunicorn's advice).

    A sync worker waits for every fsync of a submission's frames, each database round trip and commit,
    and its turn at the audit log's head, doing nothing meanwhile: one per core leaves the cores idle for
    much of a check-in (as the two of earlier releases did on two cores).
    """
    return 2 * len(os.sched_getaffinity(0)) + 1


def gunicorn_command(*, host: str, port: int, workers: int, app: str = APP, preload: bool = True) -> list[str]:
    """The command line that serves `app` with `workers` sync workers on host:port."""
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{host}:{port}"]
    if preload:
        command.append("--preload")
    return [*command, app]
