"""Reminders: one per person and step (14, 7 and 1 days before the deadline, then overdue), only for
people without proof, sent by the log sender or to an SMS gateway's webhook that may answer 503."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from click.testing import CliRunner
from flask.cli import ScriptInfo

from server.cli import cli
from server.config import ReminderSettings
from server.context import Ctx
from server.services import cycles, reminders
from tests.conftest import beneficiary_body


def _today(app):
    return cycles.local_today(cycles.office_zone(app.config["FIELDCHECK"]))


def _cycle(app, api, world, deadline_in: int) -> dict:
    today = _today(app)
    body = {
        "region_code": world["county"],
        "opens_on": (today - timedelta(days=10)).isoformat(),
        "deadline": (today + timedelta(days=deadline_in)).isoformat(),
    }
    response = api.as_("admin").post("/api/v1/cycles", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_each_step_is_sent_once_and_only_to_people_without_proof(app, api, world, caplog):
    supervisor = api.as_("supervisor_a")
    waiting = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    exempted = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2)).json()["id"]
    cycle = _cycle(app, api, world, deadline_in=20)
    today = _today(app)
    exemption = {
        "kind": "institution_care",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=400)).isoformat(),
        "reason": "县福利院集中供养，院方确认",
    }
    assert supervisor.post(f"/api/v1/beneficiaries/{exempted}/exemptions", json=exemption).status_code == 201

    deadline = today + timedelta(days=20)
    runner, info = CliRunner(), ScriptInfo(create_app=lambda: app)
    outputs = []
    with caplog.at_level(logging.INFO, logger="server.services.reminders"):
        # Hourly runs on these days: only the first run of each step adds anything.
        for days_before in (20, 14, 14, 10, 7, 1, 0, -3, -15, -16):
            day = (deadline - timedelta(days=days_before)).isoformat()
            result = runner.invoke(cli, ["reminders", "--today", day], obj=info)
            assert result.exit_code == 0, result.output
            outputs.append((days_before, result.output))
    queued = [(days, out) for days, out in outputs if "reminders queued" in out]
    assert [(days, out.split("(")[1].split(")")[0]) for days, out in queued] == [
        (14, "due_14"),
        (7, "due_7"),
        (1, "due_1"),
        (-3, "overdue"),
    ]
    assert all("1 reminders queued" in out for _days, out in queued)

    sent = supervisor.get(f"/api/v1/beneficiaries/{waiting}/notifications").json()
    assert sorted(n["step"] for n in sent) == ["due_1", "due_14", "due_7", "overdue"]
    assert {(n["state"], n["channel"], n["attempts"], n["cycle_id"]) for n in sent} == {("sent", "log", 1, cycle["id"])}
    assert supervisor.get(f"/api/v1/beneficiaries/{exempted}/notifications").json() == []
    # The log names the person by id only: no name, ID number or phone.
    assert waiting in caplog.text
    body = beneficiary_body(world["village_a"], 1)
    for identity in (body["name"], body["id_number"], body["phone"]):
        assert identity not in caplog.text


def test_a_deadline_moved_by_a_hospital_stay_moves_the_persons_reminders_with_it(app, api, world):
    supervisor = api.as_("supervisor_a")
    kept = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    moved = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2)).json()["id"]
    _cycle(app, api, world, deadline_in=20)
    today = _today(app)
    stay = {
        "kind": "hospitalisation",
        "starts_on": (today + timedelta(days=1)).isoformat(),
        "ends_on": (today + timedelta(days=2)).isoformat(),
        "reason": "县人民医院住院两天",
    }
    assert supervisor.post(f"/api/v1/beneficiaries/{moved}/exemptions", json=stay).status_code == 201

    deadline = today + timedelta(days=20)
    runner, info = CliRunner(), ScriptInfo(create_app=lambda: app)
    queued = {}
    for days_before in (14, 12, 7, 5):
        day = (deadline - timedelta(days=days_before)).isoformat()
        result = runner.invoke(cli, ["reminders", "--today", day], obj=info)
        assert result.exit_code == 0, result.output
        queued[days_before] = [line.split(": ", 1)[1] for line in result.output.splitlines() if "queued" in line]
    # Two days in hospital before the deadline: that person's deadline, and each of their steps, come two
    # days later than everyone else's.
    assert queued == {
        14: ["1 reminders queued (due_14)"],
        12: ["1 reminders queued (due_14)"],
        7: ["1 reminders queued (due_7)"],
        5: ["1 reminders queued (due_7)"],
    }
    for person in (kept, moved):
        sent = supervisor.get(f"/api/v1/beneficiaries/{person}/notifications").json()
        assert sorted(n["step"] for n in sent) == ["due_14", "due_7"]


class Gateway:
    """A local SMS gateway stand-in: records each POST and answers with the next queued status."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append({"body": body, "key": self.headers.get("Idempotency-Key")})
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def _run(app, sender, day):
    settings = app.config["FIELDCHECK"]
    with app.app_context():
        return reminders.run_reminders(Ctx.current(), today=day, zone=cycles.office_zone(settings), sender=sender)


def test_the_webhook_sender_posts_to_the_gateway_and_retries_a_503(app, api, world, caplog):
    supervisor = api.as_("supervisor_a")
    with_phone = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    no_phone = supervisor.post(
        "/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2, phone=None)
    ).json()["id"]
    _cycle(app, api, world, deadline_in=7)
    gateway = Gateway([503])
    try:
        sender = reminders.sender_from_settings(ReminderSettings(sender="webhook", webhook_url=gateway.url))
        with caplog.at_level(logging.DEBUG):
            run = _run(app, sender, _today(app))
    finally:
        gateway.close()
    assert (run.sent, run.failed, run.retrying) == (1, 1, 0)
    assert len(gateway.received) == 2, "one 503, then the retry"
    first, retry = gateway.received
    assert first == retry
    assert first["body"]["to"] == "13800138000"
    assert first["body"]["step"] == "due_7"
    assert first["key"] == first["body"]["id"]
    assert "13800138000" not in caplog.text

    (sent,) = supervisor.get(f"/api/v1/beneficiaries/{with_phone}/notifications").json()
    assert (sent["state"], sent["channel"], sent["attempts"], sent["error"]) == ("sent", "sms", 1, None)
    (failed,) = supervisor.get(f"/api/v1/beneficiaries/{no_phone}/notifications").json()
    assert (failed["state"], failed["error"]) == ("failed", "no_phone")


def test_a_gateway_that_keeps_failing_is_tried_on_later_runs_then_given_up(app, api, world):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    _cycle(app, api, world, deadline_in=7)
    gateway = Gateway([500] * 100)
    try:
        sender = reminders.WebhookSender(gateway.url, timeout=5, retries=1)
        states = []
        for _run_number in range(4):
            _run(app, sender, _today(app))
            (notification,) = supervisor.get(f"/api/v1/beneficiaries/{person}/notifications").json()
            states.append((notification["state"], notification["attempts"], notification["error"]))
    finally:
        gateway.close()
    assert states == [
        ("pending", 1, "http_500"),
        ("pending", 2, "http_500"),
        ("failed", 3, "http_500"),
        ("failed", 3, "http_500"),
    ]
    # Each attempt is the first try plus one retry.
    assert len(gateway.received) == 6
