"""The console over real HTTP: sign-in, every page answers, scope is 404, CSRF is enforced, password change."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.context import Ctx
from server.models import CaseKind, StaffUser
from server.services import cycles, imports, jobs
from server.services.auth import staff_actor
from tests.conftest import PASSWORD, beneficiary_body, id_number, wait_for
from tests.support.cases import open_test_case
from tests.support.cli import invoke

PAGES = ["/", "/cases", "/checkins", "/people", "/suspensions", "/imports", "/cycles", "/payment-runs", "/visits"]


def test_every_page_answers_for_a_supervisor(console) -> None:
    supervisor = console("supervisor_a")
    for path in PAGES:
        response = supervisor.get(path)
        assert response.status_code == 200, (path, response.text[:2000])
        assert "待办案件" in response.text
    assert supervisor.get("/admin/staff").status_code == 403
    assert supervisor.get("/overview.csv").headers["Content-Type"].startswith("text/csv")


# A duplicate registration's case lives at the county and names two records: its pages have their own test.
TOWNSHIP_KINDS = [kind for kind in CaseKind if kind != CaseKind.DUPLICATE_REGISTRATION]


@pytest.mark.parametrize("kind", TOWNSHIP_KINDS)
def test_a_case_of_every_kind_opens_with_its_notice_reason(app, api, console, world, kind: CaseKind) -> None:
    person = api.as_("supervisor_a").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()
    case_id = open_test_case(app, person["id"], kind)
    response = console("supervisor_a").get(f"/cases/{case_id}")
    assert response.status_code == 200, response.text[:2000]


def test_admin_pages(console) -> None:
    admin = console("admin")
    for path in ("/admin/staff", "/admin/audit"):
        assert admin.get(path).status_code == 200
    response = admin.post("/admin/audit/verify", {}, token_from="/admin/audit")
    assert "哈希链完整" in response.text


def test_signed_out_visitors_go_to_the_login_page(live_url, world) -> None:
    import requests

    response = requests.get(f"{live_url}/cases", timeout=30)
    assert response.url.startswith(f"{live_url}/login")


def test_wrong_password_is_refused_in_words(console, live_url) -> None:
    from tests.console.conftest import Console

    response = Console(live_url).post("/login", {"username": "supervisor_a", "password": "nope"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text


def test_a_person_outside_the_region_does_not_exist(api, console, world) -> None:
    admin = api.as_("admin")
    created = admin.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    assert created.status_code == 201
    person_id = created.json()["id"]
    assert console("supervisor_a").get(f"/people/{person_id}").status_code == 200
    response = console("supervisor_b").get(f"/people/{person_id}")
    assert response.status_code == 404
    assert "测试1" not in response.text


def test_a_form_without_its_csrf_token_is_refused(console, live_url) -> None:
    supervisor = console("supervisor_a")
    response = supervisor.http.post(f"{live_url}/cycles/generate", data={"year": "2026"}, timeout=30)
    assert response.status_code == 400
    assert "表单已过期" in response.text


def test_changing_the_password_ends_other_sessions(console) -> None:
    first = console("supervisor_a")
    second = console("supervisor_a")
    new = "a much longer new password"
    response = first.post("/password", {"current_password": PASSWORD, "new_password": new, "confirm_password": new})
    assert "密码已修改" in response.text
    assert first.get("/cases").url.endswith("/cases")
    assert "/login" in second.get("/cases").url


@pytest.mark.usefixtures("celery_worker")
def test_a_roster_import_runs_as_a_job_reports_each_row_and_the_registry_pages(console, world) -> None:
    supervisor = console("supervisor_a")
    lines = ["id_number,name,program,village_code,monthly_amount"]
    lines += [
        f"{id_number(world['village_a'], n)},村民{n},rural_minimum_allowance,{world['village_a']},335.00"
        for n in range(1, 52)
    ]
    lines.append(f"{id_number(world['village_b'], 99)},外乡人,rural_minimum_allowance,{world['village_b']},335.00")
    token = supervisor.token("/imports")
    response = supervisor.http.post(
        f"{supervisor.base_url}/imports/roster",
        data={"csrf_token": token},
        files={"file": ("roster.csv", "\n".join(lines).encode("gb18030"), "text/csv")},
        timeout=60,
    )
    job_path = response.url.removeprefix(supervisor.base_url)
    assert re.fullmatch(r"/imports/jobs/[0-9a-f-]+", job_path), response.url
    # The progress page reloads itself until the worker is done; a test reads it the same way.
    done = wait_for(
        lambda: (page := supervisor.get(job_path)).status_code == 200 and 'id="report"' in page.text and page
    )
    assert "新增: <strong>51</strong>" in done.text and "失败: <strong>1</strong>" in done.text
    assert "您的辖区内没有该村（社区）" in done.text and "http-equiv" not in done.text
    assert "村民" not in done.text.split('id="report"')[1], "the table shows the refused rows only"
    every = supervisor.get(job_path, params={"rows": "all"})
    assert every.text.count("<td>新增</td>") == 51
    report = supervisor.get(f"{job_path}/report.csv")
    assert report.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert len(rows) == 52
    assert rows[-1] == {
        "row": "53",
        "status": "error",
        "field": "village_code",
        "reason": "unknown_village",
        "explanation": "您的辖区内没有该村（社区）",
    }
    assert job_path in supervisor.get("/imports").text, "recent imports lead back to the report"
    first = supervisor.get("/people")
    assert "共 51 条，第 1 / 2 页" in first.text and "下一页" in first.text
    second = supervisor.get("/people?page=2")
    assert "第 2 / 2 页" in second.text and "上一页" in second.text
    exact = supervisor.post("/people/find", {"id_number": id_number(world["village_a"], 7)}, token_from="/people")
    assert "村民7" in exact.text and "村民8" not in exact.text
    assert "共 51 条" in supervisor.get("/people", params={"enrolment": "not_enrolled"}).text
    assert "没有符合条件的对象" in supervisor.get("/people", params={"enrolment": "enrolled"}).text
    assert supervisor.get("/people", params={"enrolment": "bogus"}).status_code == 422


def test_an_import_still_waiting_shows_its_progress_and_reloads(app, console, world) -> None:
    with app.app_context():
        context = Ctx.current()
        user = context.session.scalar(select(StaffUser).where(StaffUser.username == "supervisor_a"))
        village = world["village_a"]
        roster = f"id_number,name,program,village_code,monthly_amount\n{id_number(village, 1)},甲,orphan,{village},1\n"
        # Not handed to a worker: it stays queued.
        job = jobs.start_job(
            context,
            actor=staff_actor(user),
            kinds=imports.KINDS,
            kind=imports.ROSTER,
            data=roster.encode(),
            params={},
            ring=lambda *_: None,
        )
    page = console("supervisor_a").get(f"/imports/jobs/{job.id}")
    assert '<meta http-equiv="refresh" content="3">' in page.text
    assert "正在排队" in page.text and 'id="report"' not in page.text
    assert console("supervisor_b").get(f"/imports/jobs/{job.id}").status_code == 404


def test_pages_are_never_cached_and_assets_may_be(console, live_url) -> None:
    supervisor = console("supervisor_a")
    for path in [*PAGES, "/login", "/password", f"/people/{uuid.uuid4()}"]:
        assert supervisor.get(path).headers.get("Cache-Control") == "no-store", path
    assert console("admin").get("/admin/devices").headers["Cache-Control"] == "no-store"
    asset = supervisor.get("/console/static/console.css")
    assert asset.status_code == 200 and "no-store" not in asset.headers.get("Cache-Control", "")


def test_a_cycle_shows_the_reminders_sent_per_step(app, api, console, world) -> None:
    today = cycles.local_today(cycles.office_zone(app.config["FIELDCHECK"]))
    supervisor = api.as_("supervisor_a")
    for serial in (1, 2):
        supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], serial))
    api.as_("supervisor_b").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 3))
    cycle = (
        api.as_("admin")
        .post(
            "/api/v1/cycles",
            json={
                "region_code": world["county"],
                "frequency": "quarterly",
                "opens_on": (today - timedelta(days=10)).isoformat(),
                "deadline": (today + timedelta(days=5)).isoformat(),
            },
        )
        .json()
    )
    assert invoke(app, "reminders").exit_code == 0
    county = console("admin").get(f"/cycles/{cycle['id']}").text
    table = county.split('id="reminders"')[1].split("</table>")[0]
    assert "截止前 7 天" in table and '<td class="num">3</td>' in table
    # A township sees its own people's reminders only.
    township = console("supervisor_a").get(f"/cycles/{cycle['id']}").text.split('id="reminders"')[1]
    assert '<td class="num">2</td>' in township.split("</table>")[0]
    person = supervisor.get("/api/v1/beneficiaries", params={"name": "测试1"}).json()[0]["id"]
    assert "截止前 7 天" in console("supervisor_a").get(f"/people/{person}").text


def _due(page: str) -> str:
    return re.search(r"<dt>应认证人数</dt><dd>(\d+)</dd>", page).group(1)


def test_a_cycles_counts_are_kept_a_few_minutes_and_counted_again_on_request(app, api, console, world) -> None:
    today = cycles.local_today(cycles.office_zone(app.config["FIELDCHECK"]))
    supervisor = api.as_("supervisor_a")
    supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    window = {"opens_on": (today - timedelta(days=10)).isoformat(), "deadline": (today + timedelta(days=5)).isoformat()}
    body = {"region_code": world["county"], "frequency": "quarterly", **window}
    cycle = api.as_("admin").post("/api/v1/cycles", json=body).json()
    admin, path = console("admin"), f"/cycles/{cycle['id']}"
    assert _due(admin.get(path).text) == "1"
    supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 2))
    # The page says when it counted and keeps that count; the API counts live; the button counts again.
    kept = admin.get(path).text
    assert _due(kept) == "1" and "统计时间" in kept
    assert api.as_("admin").get(f"/api/v1/cycles/{cycle['id']}/status").json()["due"] == 2
    counted = admin.post(f"{path}/recount", {}, token_from=path)
    assert counted.url.endswith(path) and _due(counted.text) == "2"
    # Each scope has its own count: another township's supervisor never sees the county's.
    assert _due(console("supervisor_b").get(path).text) == "0"


def test_an_edit_based_on_an_older_version_is_refused(api, console, world) -> None:
    created = api.as_("supervisor_a").post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 3))
    person = created.json()["id"]
    first, second = console("supervisor_a"), console("supervisor_a2")
    form = first.get(f"/people/{person}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    saved = second.post(f"/people/{person}/edit", {"version": version, "name": "测试三", "reason": "改名"})
    assert "记录已保存" in saved.text
    stale = first.post(
        f"/people/{person}/edit",
        {"version": version, "name": "另一个名字", "reason": "改名"},
    )
    assert "其他人刚修改过" in stale.text
    assert "测试三" in first.get(f"/people/{person}").text
