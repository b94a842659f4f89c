"""The console on a duplicate registration: the township's pages show a held record as any new one, and a
county reviewer resolves it from the case page, with a second reviewer's approval."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from server import db
from server.context import Ctx
from server.models import ReviewCase
from server.services.decisions import pending_proposal
from tests.conftest import beneficiary_body, id_number
from tests.support.cases import add_supervisor
from worker.tasks import open_duplicate_registration_cases

CSRF = re.compile(r'name="csrf_token" value="[^"]+"')
CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
# The audit trail's sequence numbers: two registrations in a row are n and n + 1, held or not (the API test).
SEQ = re.compile(r"<tr><td>\d+</td>")


def _page_as_any_new_person(text: str, record: dict) -> str:
    """A person page with what differs between any two new people taken out: ids, masked number, times."""
    text = text.replace(record["id"], "ID").replace(record["id_number_masked"], "MASKED")
    return SEQ.sub("<tr><td>SEQ</td>", CLOCK.sub("TIME", CSRF.sub("CSRF", text)))


def test_the_township_console_shows_a_held_record_as_any_new_one(api, console, world) -> None:
    assert api.as_("supervisor_a").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    township_b = api.as_("supervisor_b")
    fresh = township_b.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 4, name="王四")).json()
    held = township_b.post(
        "/api/v1/beneficiaries",
        json=beneficiary_body(world["village_b"], 4, name="王四", id_number=id_number(world["village_a"], 1)),
    ).json()
    clerk = console("supervisor_b")

    pages = [clerk.get(f"/people/{record['id']}") for record in (fresh, held)]
    assert [page.status_code for page in pages] == [200, 200]
    assert _page_as_any_new_person(pages[0].text, fresh) == _page_as_any_new_person(pages[1].text, held)
    listed = clerk.get("/people").text
    assert fresh["id"] in listed and held["id"] in listed
    found = clerk.post("/people/find", {"id_number": id_number(world["village_a"], 1)}, token_from="/people")
    assert held["id"] in found.text
    assert held["id"] not in clerk.get("/cases").text


def test_a_county_reviewer_resolves_it_from_the_case_page(app, api, console, world) -> None:
    add_supervisor(app, world["county"])
    original = api.as_("supervisor_a").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    held = (
        api.as_("supervisor_b")
        .post(
            "/api/v1/beneficiaries",
            json=beneficiary_body(world["village_b"], 2, name="李新", id_number=id_number(world["village_a"], 1)),
        )
        .json()
    )
    with app.app_context():
        open_duplicate_registration_cases()
        case_id = str(
            db.session().scalars(select(ReviewCase.id).where(ReviewCase.beneficiary_id == uuid.UUID(held["id"]))).one()
        )

    assert console("supervisor_b").get(f"/cases/{case_id}").status_code == 404
    reviewer = console("supervisor_county")
    assert case_id in reviewer.get("/cases", params={"kind": "duplicate_registration"}).text
    page = reviewer.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert 'id="duplicate-registration"' in page.text
    assert "李新" in page.text and original.json()["name"] in page.text
    assert "身份证号在两个乡镇登记" in page.text and "提议转移（同一人迁居）" in page.text

    proposed = reviewer.post(
        f"/cases/{case_id}/decisions",
        {"decision": "transfer", "reason": "moved in October, confirmed by both townships"},
        token_from=f"/cases/{case_id}",
    )
    assert proposed.status_code == 200, proposed.text[:500]
    with app.app_context():
        decision_id = str(pending_proposal(Ctx.current(), case_id=uuid.UUID(case_id)).id)
    admin = console("admin")
    approved = admin.post(
        f"/cases/{case_id}/decisions/{decision_id}/approve", {"reason": "agreed"}, token_from=f"/cases/{case_id}"
    )
    assert approved.status_code == 200, approved.text[:500]
    assert "已转移：本人迁居" in admin.get(f"/cases/{case_id}").text
    assert api.as_("supervisor_b").get(f"/api/v1/beneficiaries/{held['id']}").json()["status"] == "active"
    assert api.as_("supervisor_a").get(f"/api/v1/beneficiaries/{original.json()['id']}").json()["status"] == (
        "terminated"
    )
