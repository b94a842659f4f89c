"""The period failed check-ins and absences count in: the configured cycle, else the calendar quarter."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from server import db
from server.context import Ctx
from server.models import Beneficiary
from server.services import cycles
from tests.conftest import beneficiary_body


def test_a_configured_cycle_is_the_period_and_the_calendar_quarter_stands_in_elsewhere(app, api, world):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()["id"]
    zone = cycles.office_zone(app.config["FIELDCHECK"])
    today = cycles.local_today(zone)
    body = {
        "region_code": world["township_a"],
        "opens_on": (today - timedelta(days=10)).isoformat(),
        "deadline": (today + timedelta(days=5)).isoformat(),
    }
    cycle = supervisor.post("/api/v1/cycles", json=body).json()
    with app.app_context():
        session = db.session()
        beneficiary = session.get(Beneficiary, uuid.UUID(person))
        current = cycles.period_for(Ctx.current(), beneficiary=beneficiary, on_date=today, zone=zone)
        assert current.key == cycle["id"]
        assert current.start.date() == today - timedelta(days=10)
        # The grace period still belongs to the cycle: a failure then counts toward its referral.
        assert current.end.date() == today + timedelta(days=5 + cycle["grace_days"] + 1)

        earlier = cycles.period_for(Ctx.current(), beneficiary=beneficiary, on_date=date(2026, 5, 20), zone=zone)
        assert (earlier.key, earlier.start.date(), earlier.end.date()) == (
            "2026-04-01",
            date(2026, 4, 1),
            date(2026, 7, 1),
        )
