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
from pathlib import Path

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

        def printed_url():
            return f"FieldCheck on {base}/" in (tmp_path / "service.log").read_text()

        # The address is printed only once the service answers: right after it, everything does.
        wait_for(printed_url, timeout=120)
        printed = (tmp_path / "service.log").read_text()
        index = requests.get(f"{base}/api/v1", timeout=5)
        assert f"{base}/api/v1" in printed
        assert (index.status_code, index.json()["docs"], index.json()["login"]) == (200, "/docs", "/api/v1/auth/token")
        # `/` is the supervisors' console: signed out, it sends the reader to its sign-in page (Chinese first).
        home = requests.get(f"{base}/", timeout=5, allow_redirects=False)
        assert (home.status_code, home.headers["Location"].split("?")[0]) == (302, "/login")
        login = requests.get(f"{base}/login", timeout=5)
        assert (login.status_code, login.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
        assert 'name="csrf_token"' in login.text and "登录" in login.text
        assert "supervisor" in printed
        assert "sweep: 1 missed_checkin cases opened" in printed

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
        listing = requests.get(f"{base}/api/v1/beneficiaries", headers=auth, timeout=10)
        # gunicorn names itself without its version; personal data is never cached.
        assert listing.headers["Server"] == "gunicorn"
        assert listing.headers["Cache-Control"] == "no-store"
        people = listing.json()
        assert len(people) >= 3
        # The demo cycle has ended: two of the supervisor's three people checked in, one did not.
        [cycle] = requests.get(f"{base}/api/v1/cycles", headers=auth, timeout=10).json()
        status = requests.get(f"{base}/api/v1/cycles/{cycle['id']}/status", headers=auth, timeout=10).json()
        assert (status["phase"], status["due"], status["satisfied_by"]["checkin"]) == ("closed", 3, 2)
        cases = requests.get(f"{base}/api/v1/cases", params={"kind": "missed_checkin"}, headers=auth, timeout=10)
        assert [(c["state"], c["details"]["cycle_id"]) for c in cases.json()] == [("open", cycle["id"])]

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


def test_make_run_takes_the_port_from_port():
    root = Path(__file__).resolve().parent.parent
    # -n prints the recipes without running them.
    planned = subprocess.run(["make", "-n", "run", "PORT=8100"], cwd=root, capture_output=True, text=True, check=True)
    assert ".venv/bin/fieldcheck demo --port 8100" in planned.stdout
