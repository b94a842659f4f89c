"""How `fieldcheck serve` runs the API under gunicorn (also timed by `fieldcheck bench startup`)."""

from __future__ import annotations

import sys

# The app is built once in gunicorn's master and forked into the workers: a worker answers as soon as
# it is forked instead of importing the whole app itself (seconds, on two cores shared by four
# workers), and the workers share the master's imported code. Nothing opens a database connection or
# a socket while the app is built, so no connection is inherited across the fork.
APP = "server.app:create_app()"


def gunicorn_command(*, host: str, port: int, workers: int, app: str = APP, preload: bool = True) -> list[str]:
    """The command line that serves `app` with `workers` sync workers on host:port."""
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{host}:{port}"]
    if preload:
        command.append("--preload")
    return [*command, app]
