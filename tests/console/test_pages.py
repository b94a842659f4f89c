"""The console over real HTTP: sign-in, every page answers, scope is 404, CSRF is enforced, password change."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD, beneficiary_body, id_number

PAGES = ["/", "/cases", "/checkins", "/people", "/suspensions", "/imports", "/cycles", "/payment-runs", "/visits"]


def test_every_page_answers_for_a_supervisor(console) -> None:
    supervisor = console("supervisor_a")
    for path in PAGES:
        response = supervisor.get(path)
        assert response.status_code == 200, (path, response.text[:2000])
        assert "待办案件" in response.text
    assert supervisor.get("/admin/staff").status_code == 403
    assert supervisor.get("/overview.csv").headers["Content-Type"].startswith("text/csv")


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


def test_a_roster_import_reports_each_row_and_the_registry_pages(console, world) -> None:
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
    assert response.status_code == 200
    assert "新增: <strong>51</strong>" in response.text and "失败: <strong>1</strong>" in response.text
    assert "您的辖区内没有该村（社区）" in response.text
    first = supervisor.get("/people")
    assert "共 51 条，第 1 / 2 页" in first.text and "下一页" in first.text
    second = supervisor.get("/people?page=2")
    assert "第 2 / 2 页" in second.text and "上一页" in second.text
    exact = supervisor.get("/people", params={"id_number": id_number(world["village_a"], 7)})
    assert "村民7" in exact.text and "共 1 条" in exact.text


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
        headers={"Referer": f"{first.base_url}/people/{person}/edit"},
    )
    assert "其他人刚修改过" in stale.text
    assert "测试三" in first.get(f"/people/{person}").text
