"""A private PostgreSQL server on a free loopback port, which a fault test may restart.

The machine's own server is shared by every test run (and by other work on the machine); restarting it
would fail them all. This one lives in a throwaway folder and runs the machine's PostgreSQL binaries.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

# PostgreSQL refuses to run as root; as root the server runs as the `postgres` account the package made.
_AS_SERVER_ACCOUNT = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL's server binaries (pg_ctl, initdb) are not installed")
    return Path(pg_ctl).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivatePostgres:
    """initdb into a temporary folder, then start, restart and stop the server there."""

    def __init__(self) -> None:
        self.bin = _binaries()
        # Not under pytest's tmp_path: the server account must be able to reach its data folder.
        self.folder = Path(tempfile.mkdtemp(prefix="fieldcheck-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        if _AS_SERVER_ACCOUNT:
            shutil.chown(self.folder, "postgres")
        self.folder.chmod(0o700)
        self._run("initdb", "--pgdata", str(self.data), "--auth=trust", "--username=postgres", "--no-sync")

    @property
    def url(self) -> str:
        """A SQLAlchemy URL of the database `fieldcheck` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/fieldcheck"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*_AS_SERVER_ACCOUNT, str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def _pg_ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} -c fsync=on"
        self._run("pg_ctl", action, "--pgdata", str(self.data), "--wait", "-o", options, *args)

    def start(self) -> None:
        self._pg_ctl("start", "--log", str(self.folder / "server.log"))

    def create_database(self) -> None:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute('CREATE DATABASE "fieldcheck"')

    def restart(self) -> None:
        """Stop at once (every connection is cut, as in a crash or a failover) and start again."""
        self._pg_ctl("restart", "--mode", "immediate")

    def stop(self) -> None:
        self._pg_ctl("stop", "--mode", "immediate")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
