"""Paging the API's lists: a total counted up to a bound, and a cursor that walks any list to its end.

Every list the console or the apps page through (cases, check-ins, visits, beneficiaries, visit tasks) pages
the same way; each is seeded with ties in its sort key, so the order's last column (the id) decides.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from server import db, migrate
from server.app import create_app
from server.models import (
    Beneficiary,
    Checkin,
    CheckinChallenge,
    CheckinMode,
    CheckinState,
    StaffUser,
    Visit,
    VisitOutcome,
    VisitTask,
)
from tests.conftest import Api, beneficiary_body, make_settings, seed_world, served
from tests.support.cases import open_test_case

LISTS = {
    "cases": "/api/v1/cases",
    "check-ins": "/api/v1/checkins",
    "visits": "/api/v1/visits",
    "beneficiaries": "/api/v1/beneficiaries",
    "visit tasks": "/api/v1/visit-tasks",
}
PEOPLE = 7
AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _pagination(response) -> dict:
    return json.loads(response.headers["X-Pagination"])


def _seed(api, app: Flask, world: dict[str, str]) -> None:
    """PEOPLE people in two villages, three of them with one name in one village, and for each a case, a
    check-in, a visit and a visit task, whose times and due dates repeat in pairs."""
    admin = api.as_("admin")
    for serial in range(1, PEOPLE + 1):
        village = world["village_a"] if serial % 2 else world["village_b"]
        name = "同名" if serial in (1, 3, 5) else f"测试{serial}"
        created = admin.post("/api/v1/beneficiaries", json=beneficiary_body(village, serial, name=name))
        assert created.status_code == 201, created.text
        open_test_case(app, created.json()["id"])
    with app.app_context():
        session = db.session()
        worker = session.scalar(select(StaffUser).where(StaffUser.username == "worker_a"))
        for n, person in enumerate(session.scalars(select(Beneficiary))):
            _add_rows(session, person, worker, at=AT + timedelta(hours=n // 2), n=n)
        session.commit()


def _add_rows(session, person: Beneficiary, worker: StaffUser, *, at: datetime, n: int) -> None:
    challenge = CheckinChallenge(
        beneficiary_id=person.id,
        staff_id=worker.id,
        mode=CheckinMode.ASSISTED_STAFF,
        nonce=uuid.uuid4().hex,
        actions=[],
        issued_at=at,
        expires_at=at,
        used_at=at,
    )
    session.add(challenge)
    session.flush()
    session.add(
        Checkin(
            beneficiary_id=person.id,
            challenge_id=challenge.id,
            client_id=f"paging-{n}",
            mode=CheckinMode.ASSISTED_STAFF,
            staff_id=worker.id,
            region_code=person.village_code,
            device_info={},
            state=CheckinState.REVIEW,
            created_at=at,
            updated_at=at,
        )
    )
    session.add(_visit(person, worker, started_at=at, client_id=f"paging-{n}"))
    session.add(
        VisitTask(
            beneficiary_id=person.id,
            field_worker_id=worker.id,
            region_code=person.village_code,
            due_on=at.date() + timedelta(days=n // 2),
            created_by=worker.id,
            created_at=at,
        )
    )


def _visit(person: Beneficiary, worker: StaffUser, *, started_at: datetime, client_id: str) -> Visit:
    return Visit(
        field_worker_id=worker.id,
        client_id=client_id,
        beneficiary_id=person.id,
        region_code=person.village_code,
        worker_region_code=worker.region_code,
        started_at=started_at,
        ended_at=started_at,
        received_at=started_at,
        gps_fixes=[],
        checklist_version=1,
        checklist={},
        outcome=VisitOutcome.CONFIRMED_PRESENT,
        device_info={},
    )


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


def _walk(client, path: str, page_size: int, between_pages=lambda _n: None) -> list[str]:
    """Every row of a list, following next_cursor from the first page to the last."""
    response = client.get(path, params={"page_size": page_size})
    seen = _ids(response)
    pages = 1
    while "next_cursor" in _pagination(response):
        between_pages(pages)
        response = client.get(path, params={"page_size": page_size, "cursor": _pagination(response)["next_cursor"]})
        metadata = _pagination(response)
        # A cursor page has no number.
        assert "page" not in metadata and "next_page" not in metadata
        seen += _ids(response)
        pages += 1
    return seen


@pytest.mark.parametrize("name", LISTS)
def test_a_cursor_walks_every_row_once_in_the_lists_order(api, app, world, name):
    _seed(api, app, world)
    admin = api.as_("admin")
    path = LISTS[name]
    whole = _ids(admin.get(path, params={"page_size": 100}))
    assert len(whole) == PEOPLE
    for page_size in (1, 2, 3, PEOPLE):
        assert _walk(admin, path, page_size) == whole, page_size
    # A page that happens to end the list offers no cursor to an empty page.
    last = admin.get(path, params={"page_size": PEOPLE})
    assert "next_cursor" not in _pagination(last)
    assert "next_page" not in _pagination(last)
    # The first page counts; a cursor's page does not count again (a deep page's count cost as much as the page).
    first = _pagination(admin.get(path, params={"page_size": 1}))
    assert (first["total"], first["total_exact"]) == (PEOPLE, True)
    deeper = _pagination(admin.get(path, params={"page_size": 1, "cursor": first["next_cursor"]}))
    assert "total" not in deeper and "next_cursor" in deeper


def test_a_cursor_walk_sees_rows_added_meanwhile_after_it_and_none_twice(api, app, world):
    _seed(api, app, world)
    admin = api.as_("admin")
    before = _ids(admin.get("/api/v1/visits", params={"page_size": 100}))

    added: list[str] = []

    def add_two(_pages: int) -> None:
        # Newest first: a visit newer than every other lands before the walk's position and must not push
        # rows already seen onto the next page (as an OFFSET would); an older one lands ahead and is seen.
        with app.app_context():
            session = db.session()
            worker = session.scalar(select(StaffUser).where(StaffUser.username == "worker_a"))
            person = session.scalars(select(Beneficiary)).first()
            stamp = len(added)
            newer = _visit(person, worker, started_at=AT + timedelta(days=30), client_id=f"newer-{stamp}")
            older = _visit(person, worker, started_at=AT - timedelta(days=30 + stamp), client_id=f"older-{stamp}")
            session.add_all([newer, older])
            session.commit()
            added.extend([str(newer.id), str(older.id)])

    walked = _walk(admin, "/api/v1/visits", 2, between_pages=add_two)
    assert len(walked) == len(set(walked))
    newer_ids, older_ids = added[0::2], added[1::2]
    assert walked == before + older_ids
    assert not set(newer_ids) & set(walked)


def test_offset_pages_past_an_insert_repeat_a_row_the_cursor_does_not(api, app, world):
    """Why the cursor: the same walk by page number shows a row twice when a newer one arrives."""
    _seed(api, app, world)
    admin = api.as_("admin")
    first = _ids(admin.get("/api/v1/visits", params={"page": 1, "page_size": 3}))
    cursor = _pagination(admin.get("/api/v1/visits", params={"page": 1, "page_size": 3}))["next_cursor"]
    with app.app_context():
        session = db.session()
        worker = session.scalar(select(StaffUser).where(StaffUser.username == "worker_a"))
        session.add(
            _visit(
                session.scalars(select(Beneficiary)).first(),
                worker,
                started_at=AT + timedelta(days=1),
                client_id="newest",
            )
        )
        session.commit()
    by_number = _ids(admin.get("/api/v1/visits", params={"page": 2, "page_size": 3}))
    by_cursor = _ids(admin.get("/api/v1/visits", params={"cursor": cursor, "page_size": 3}))
    assert by_number[0] == first[-1]
    assert not set(by_cursor) & set(first)


@pytest.mark.parametrize("name", LISTS)
def test_a_total_past_the_bound_says_more_than_the_bound(api, app, world, name, monkeypatch):
    _seed(api, app, world)
    admin = api.as_("admin")
    path = LISTS[name]
    monkeypatch.setitem(app.config, "FIELDCHECK", dataclasses.replace(app.config["FIELDCHECK"], count_up_to=4))

    first = _pagination(admin.get(path, params={"page_size": 2}))
    assert first["total"] == 4 and first["total_exact"] is False
    assert "last_page" not in first and "total_pages" not in first
    assert (first["page"], first["next_page"]) == (1, 2)
    # Past the bound the next page is offered while rows follow, and not after the last.
    third = _pagination(admin.get(path, params={"page": 3, "page_size": 2}))
    assert (third["previous_page"], third["next_page"], third["total_exact"]) == (2, 4, False)
    last = _pagination(admin.get(path, params={"page": 4, "page_size": 2}))
    assert "next_page" not in last and "next_cursor" not in last

    monkeypatch.setitem(app.config, "FIELDCHECK", dataclasses.replace(app.config["FIELDCHECK"], count_up_to=PEOPLE))
    exact = _pagination(admin.get(path, params={"page_size": 2}))
    assert (exact["total"], exact["total_exact"], exact["last_page"], exact["total_pages"]) == (PEOPLE, True, 4, 4)


def _a_cursor(admin, path: str) -> str:
    return _pagination(admin.get(path, params={"page_size": 1}))["next_cursor"]


def _flipped(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-1] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("name", LISTS)
def test_a_cursor_this_list_did_not_give_out_is_a_400(api, app, world, name):
    _seed(api, app, world)
    admin = api.as_("admin")
    path = LISTS[name]
    other = LISTS["beneficiaries" if name != "beneficiaries" else "visits"]
    bad = {
        "empty": "",
        "not base64": "not a cursor!",
        "random bytes": base64.urlsafe_b64encode(b"\x01" + bytes(40)).decode(),
        "tampered": _flipped(_a_cursor(admin, path)),
        "another list's": _a_cursor(admin, other),
        "overlong": "A" * 5000,
    }
    for label, cursor in bad.items():
        response = admin.get(path, params={"cursor": cursor})
        assert response.status_code == 400, (label, response.text)
        assert response.json()["errors"] == {"cursor": ["invalid_cursor"]}, label
        assert response.json()["code"] == 400
    both = admin.get(path, params={"cursor": _a_cursor(admin, path), "page": 2})
    assert both.status_code == 422
    assert both.json()["errors"] == {"page": ["not_with_cursor"]}


def test_a_cursor_reveals_nothing_of_the_row_it_ends_on(api, app, world):
    _seed(api, app, world)
    admin = api.as_("admin")
    response = admin.get("/api/v1/beneficiaries", params={"page_size": 1})
    cursor = _pagination(response)["next_cursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    row = response.json()[0]
    for value in (row["name"], row["village_code"], row["id"]):
        assert value.encode() not in raw and value not in cursor


@pytest.fixture
def sqlite_app(tmp_path) -> Flask:
    """The app on the embedded default's SQLite, migrated to head."""
    instance = tmp_path / "instance"
    settings = make_settings(
        instance,
        database_url=f"sqlite:///{tmp_path / 'fieldcheck.db'}",
        broker_url=f"sqla+sqlite:///{tmp_path / 'b.db'}",
    )
    flask_app = create_app(settings)
    with flask_app.app_context():
        migrate.upgrade(db.engine())
    return flask_app


@pytest.mark.parametrize("name", ["visits", "beneficiaries"])
def test_a_cursor_walks_a_list_on_sqlite_too(sqlite_app, name):
    world = seed_world(sqlite_app)
    with served(sqlite_app) as url:
        api = Api(url)
        _seed(api, sqlite_app, world)
        admin = api.as_("admin")
        whole = _ids(admin.get(LISTS[name], params={"page_size": 100}))
        assert len(whole) == PEOPLE
        assert _walk(admin, LISTS[name], 2) == whole
        bad = admin.get(LISTS[name], params={"cursor": _flipped(_a_cursor(admin, LISTS[name]))})
        assert bad.status_code == 400
