"""The embedded default, as `make run` starts it: SQLite, a local object folder, the SQLite broker
and one process tree (gunicorn plus a solo worker with beat), used over real HTTP."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import requests

from tests.conftest import wait_for
from tests.support.photos import photo_bytes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_run_serves_the_demo_and_enrols_a_face(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")}
    env["FIELDCHECK_INSTANCE_PATH"] = str(tmp_path / "instance")
    log = (tmp_path / "service.log").open("w")
    service = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up():
            try:
                return requests.get(f"{base}/openapi.json", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(up, timeout=90)
        printed = (tmp_path / "service.log").read_text()
        assert f"http://127.0.0.1:{port}/api/v1" in printed
        assert "supervisor" in printed

        # The phone app, and a fresh activation code for a demo person's phone.
        assert f"Phone app: {base}/m/" in printed
        code = re.search(r"activation code for \S+: ([A-Z0-9]{12})", printed).group(1)
        assert f"{base}/m/#/activate?code={code}" in printed
        assert "<title>" in requests.get(f"{base}/m/", timeout=10).text
        version = requests.get(f"{base}/api/v1/consent/biometric", timeout=10).json()["version"]
        activated = requests.post(
            f"{base}/api/v1/devices/activate", json={"code": code, "consent_version": version}, timeout=10
        )
        assert activated.status_code == 200, activated.text

        passwords = json.loads((tmp_path / "instance" / "demo-credentials.json").read_text())
        assert passwords["supervisor"] in printed
        token = requests.post(
            f"{base}/api/v1/auth/token",
            json={"username": "supervisor", "password": passwords["supervisor"]},
            timeout=10,
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        people = requests.get(f"{base}/api/v1/beneficiaries", headers=auth, timeout=10).json()
        assert len(people) >= 3

        person = people[0]["id"]
        uploaded = requests.post(
            f"{base}/api/v1/beneficiaries/{person}/photos",
            files=[("photos", ("obama.jpg", photo_bytes("obama.jpg"), "image/jpeg"))],
            headers=auth,
            timeout=30,
        )
        assert uploaded.status_code == 202, uploaded.text

        def enrolled():
            state = requests.get(f"{base}/api/v1/beneficiaries/{person}/enrolment", headers=auth, timeout=10).json()
            return state["state"] == "enrolled"

        wait_for(enrolled, timeout=120)
        assert (tmp_path / "instance" / "fieldcheck.db").exists()
        assert any((tmp_path / "instance" / "objects").rglob("*"))
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        try:
            service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(service.pid, signal.SIGKILL)
        log.close()
    # Stopping is clean: the children went with the parent.
    time.sleep(0.5)
    assert service.returncode is not None
