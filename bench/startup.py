"""Start-up: what it costs to import the app, to run `fieldcheck --help` and a command that does no face
work (`fieldcheck sweep` on an empty database: the app built, one query), and to serve a first answer.

Each figure is printed beside a bare Flask app measured in the same run (the floor a Flask service
cannot go under): importing it, and serving it with the same gunicorn command. The service is served
on a scratch PostgreSQL database with a throwaway instance folder, as a deployment runs it.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path

from bench.scratch import scratch_database
from server.serving import APP, gunicorn_command

BARE_APP = """
from flask import Flask

app = Flask(__name__)


@app.get("/api/v1")
def index():
    return {"ok": True}
"""
IMPORT_APP = "import server.app; server.app.create_app()"
IMPORT_BARE = "import bare; bare.app"


# Printed by the measured process itself: peak RSS of its own address space (VmHWM starts afresh at
# exec, unlike ru_maxrss, which counts the forking parent's pages), its CPU time, and how many of the
# modules it imported had no bytecode to load and were compiled from source (half of the app's
# start-up when none has: see the Makefile).
REPORT = (
    "; import os, resource, sys; u = resource.getrusage(resource.RUSAGE_SELF);"
    " hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'));"
    " specs = [s for m in list(sys.modules.values()) if (s := getattr(m, '__spec__', None)) and s.cached];"
    " print(u.ru_utime + u.ru_stime, int(hwm.split()[1]) / 1024,"
    " sum(not os.path.exists(s.cached) for s in specs), len(specs))"
)


def _child_cpu_and_rss(code: str, env: dict[str, str]) -> tuple[float, float, str]:
    """CPU seconds (user + system), peak RSS in MB and "compiled of imported" modules of running code
    in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code + REPORT], env=env, check=True, capture_output=True, text=True)
    cpu, rss, compiled, imported = out.stdout.split()[-4:]
    return float(cpu), float(rss), f"{compiled} of {imported}"


def _median(run: Callable[[], float], repeats: int) -> float:
    return statistics.median(run() for _ in range(repeats))


def _wall(argv: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _first_answer(command: list[str], env: dict[str, str], url: str, timeout: float = 120.0) -> float:
    """Seconds from starting the server to its first 200 at url; the server is stopped afterwards."""
    began = time.perf_counter()
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - began < timeout:
            if server.poll() is not None:
                raise RuntimeError(f"{command} exited with {server.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - began
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
    finally:
        server.terminate()
        server.wait()


def _served(app: str, env: dict[str, str], *, workers: int, preload: bool) -> float:
    port = _free_port()
    command = gunicorn_command(host="127.0.0.1", port=port, workers=workers, app=app, preload=preload)
    return _first_answer(command, env, f"http://127.0.0.1:{port}/api/v1")


def run(*, repeats: int = 5, workers: int = 4, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Measure start-up on this machine and print each figure beside the bare Flask app's."""
    python = sys.executable
    fieldcheck = str(Path(python).with_name("fieldcheck"))
    with scratch_database(os.environ.get("FIELDCHECK_DATABASE_URL", "")) as url, tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bare.py").write_text(BARE_APP)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([tmp, os.getcwd()]),
            "FIELDCHECK_INSTANCE_PATH": str(Path(tmp, "instance")),
            "FIELDCHECK_DATABASE_URL": url,
            "FIELDCHECK_SECRET_KEY": secrets.token_urlsafe(32),
            "FIELDCHECK_DATA_KEY": b64encode(secrets.token_bytes(32)).decode(),
        }
        app_cpu, app_rss, app_compiled = min(_child_cpu_and_rss(IMPORT_APP, env) for _ in range(repeats))
        bare_cpu, bare_rss, _ = min(_child_cpu_and_rss(IMPORT_BARE, env) for _ in range(repeats))
        help_wall = _median(lambda: _wall([fieldcheck, "--help"], env), repeats)
        bare_wall = _median(lambda: _wall([python, "-c", IMPORT_BARE], env), repeats)
        subprocess.run([fieldcheck, "init-db"], env=env, check=True, stdout=subprocess.DEVNULL)
        command_wall = _median(lambda: _wall([fieldcheck, "sweep"], env), repeats)
        served = _median(lambda: _served(APP, env, workers=workers, preload=True), 3)
        served_each = _median(lambda: _served(APP, env, workers=workers, preload=False), 3)
        served_bare = _median(lambda: _served("bare:app", env, workers=workers, preload=True), 3)
    figures = {
        "import_cpu_s": app_cpu,
        "import_rss_mb": app_rss,
        "bare_import_cpu_s": bare_cpu,
        "help_s": help_wall,
        "command_s": command_wall,
        "bare_start_s": bare_wall,
        "first_answer_s": served,
        "first_answer_without_preload_s": served_each,
        "bare_first_answer_s": served_bare,
    }
    echo(f"start-up, best or median of {repeats} runs; the bare Flask app is measured in the same run")
    echo(
        f"  import server.app + create_app: {app_cpu:.2f} CPU-s, peak RSS {app_rss:.0f} MB"
        f"  ({app_compiled} imported modules compiled from source, for want of bytecode)"
    )
    echo(f"    bare Flask app: {bare_cpu:.2f} CPU-s, {bare_rss:.0f} MB  (ratio {app_cpu / bare_cpu:.1f})")
    echo(f"  fieldcheck --help: {help_wall:.2f} s   (bare Flask app start {bare_wall:.2f} s)")
    echo(f"  fieldcheck sweep, empty database: {command_wall:.2f} s")
    echo(
        f"  gunicorn, {workers} workers, launch to first answer: {served:.2f} s "
        f"(each worker importing the app itself: {served_each:.2f} s; bare Flask app {served_bare:.2f} s, "
        f"ratio {served / served_bare:.1f})"
    )
    return figures
