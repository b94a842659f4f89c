"""`fieldcheck beat` starts on a fresh deployment whose instance folder does not exist yet."""

import base64
import os
import socket
import subprocess
import sys
import time

from tests.conftest import wait_for


def test_beat_creates_the_instance_folder_it_keeps_its_schedule_in(app, tmp_path):
    settings = app.config["FIELDCHECK"]
    instance = tmp_path / "not" / "there" / "yet"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: beat starts without reaching a broker
        env = os.environ | {
            "FIELDCHECK_DATABASE_URL": settings.database_url,
            "FIELDCHECK_SECRET_KEY": settings.secret_key,
            "FIELDCHECK_DATA_KEY": base64.b64encode(settings.data_key).decode(),
            "FIELDCHECK_INSTANCE_PATH": str(instance),
            "FIELDCHECK_BROKER_URL": f"redis://127.0.0.1:{closed.getsockname()[1]}/0",
            "FIELDCHECK_STORAGE_URL": f"file://{tmp_path / 'objects'}",
        }
        beat = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "beat"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            wait_for(lambda: list(instance.glob("celerybeat-schedule*")) or beat.poll() is not None, timeout=60)
            time.sleep(1)
            assert beat.poll() is None, beat.stdout.read().decode()
        finally:
            beat.kill()
            beat.wait(timeout=10)
    assert list(instance.glob("celerybeat-schedule*"))
