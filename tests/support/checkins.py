"""Check-ins through the API for tests: an enrolled person with a phone, challenges, submissions, verdicts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import requests

from server.services import consent
from tests.conftest import Api, beneficiary_body, wait_for
from tests.support.photos import photo_bytes
from tests.support.sessions import with_light_phase


def enrolled_person(api, world, serial: int, *photos: str) -> tuple[str, Api]:
    """A beneficiary enrolled with the given photos, and their activated phone."""
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], serial)).json()["id"]
    files = [("photos", (name, photo_bytes(name), "image/jpeg")) for name in photos]
    assert supervisor.post(f"/api/v1/beneficiaries/{person}/photos", files=files).status_code == 202
    wait_for(lambda: supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["state"] == "enrolled")
    code = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    token = activate(api, code).json()["access_token"]
    return person, Api(api.base_url, token)


def activate(api: Api, code: str) -> requests.Response:
    """Redeem an activation code on a phone whose person agreed to the current consent text."""
    return api.post("/api/v1/devices/activate", json={"code": code, "consent_version": consent.VERSION})


def new_challenge(client: Api, **body) -> dict:
    response = client.post("/api/v1/checkin-challenges", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def actions_of(challenge: dict) -> list[str]:
    return [a["action"] for a in challenge["actions"]]


def submit(
    client: Api,
    challenge: dict,
    frames,
    *,
    client_id: str | None = None,
    gps: dict | None = None,
    light_phase: bool = True,
):
    """Send frames for a challenge. The phone app ends with the colour-light phase: frames built
    without one get the colour phase of whoever their first frame shows (light_phase=False sends none)."""
    if light_phase and challenge.get("light"):
        frames = with_light_phase(list(frames), challenge["light"])
    start = datetime.now(UTC)
    metadata = {
        "challenge_id": challenge["id"],
        "client_id": client_id or uuid.uuid4().hex,
        "frames": [
            {
                "captured_at": (start + timedelta(seconds=f.captured_at)).isoformat(),
                "action": f.action,
                "colour": f.colour,
            }
            for f in frames
        ],
        "gps": gps or {"lat": 27.83, "lon": 112.92, "accuracy_m": 8, "fix_time": start.isoformat(), "provider": "gps"},
        "device": {"model": "Redmi 9A", "os": "Android 10", "app_version": "1.0.0"},
    }
    files = [("frames", (f"{i}.jpg", f.jpeg, "image/jpeg")) for i, f in enumerate(frames)]
    return client.post("/api/v1/checkins", data={"metadata": json.dumps(metadata)}, files=files)


def await_verdict(client: Api, checkin_id: str) -> dict:
    def decided():
        status = client.get(f"/api/v1/checkins/{checkin_id}").json()
        return status if status["status"] != "pending" else None

    return wait_for(decided, timeout=120)


def check_in(client: Api, make_frames) -> dict:
    challenge = new_challenge(client)
    response = submit(client, challenge, make_frames(actions_of(challenge)))
    assert response.status_code == 202, response.text
    return await_verdict(client, response.json()["id"])
