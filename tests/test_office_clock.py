"""Services judge dates on the offices' clock, not UTC's: from 16:00 UTC it is already tomorrow in a
Chinese county, and a death recorded or a case opened then is dated there."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from server import db
from server.config import CycleSettings
from server.context import Ctx
from server.models import Beneficiary, CaseKind
from server.services import cycles, deaths
from server.services.audit import Actor
from server.services.cases import REVIEW_WORKING_DAYS, add_working_days, open_case
from tests.conftest import COUNTY, beneficiary_body, id_number


def _ctx_on_a_clock_apart_from_utc() -> Ctx:
    # An offset whose local date differs from UTC's at this very hour, whenever the test runs.
    offset = 14 if datetime.now(UTC).hour >= 10 else -12
    ctx = Ctx.current()
    settings = dataclasses.replace(ctx.settings, cycles=CycleSettings(utc_offset_hours=offset))
    return dataclasses.replace(ctx, settings=settings)


def test_a_death_is_in_the_future_by_the_offices_date(app, world):
    with app.app_context():
        ctx = _ctx_on_a_clock_apart_from_utc()
        today = cycles.office_today(ctx.settings)
        rows = [
            (1, {"id_number": id_number(world["village_a"], 901), "date_of_death": today}, True),
            (2, {"id_number": id_number(world["village_a"], 902), "date_of_death": today + timedelta(days=1)}, True),
        ]
        results = deaths.import_death_batch(ctx, actor=Actor(kind="system", id=None, region_code=COUNTY), rows=rows)
        db.session().rollback()
    assert [r.status for r in results] == ["no_match", "error"]
    assert results[1].errors == [{"field": "date_of_death", "reason": "in_future"}]


def test_a_case_is_due_three_working_days_after_the_offices_today(app, api, world):
    person = api.as_("admin").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 903)).json()
    with app.app_context():
        ctx = _ctx_on_a_clock_apart_from_utc()
        case = open_case(
            ctx,
            kind=CaseKind.MISSED_CHECKIN,
            beneficiary=ctx.session.get(Beneficiary, uuid.UUID(person["id"])),
            dedupe_key="office-clock",
            summary="missed",
            details={},
        )
        due = case.due_on
        db.session().rollback()
    assert due == add_working_days(cycles.office_today(ctx.settings), REVIEW_WORKING_DAYS)
