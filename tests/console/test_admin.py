"""Administration in the console: staff accounts changed, reset and disabled; phones listed and revoked;
each change audited as the API audits it."""

from __future__ import annotations

import re

from sqlalchemy import select

from server import db
from server.context import Ctx
from server.models import AuditEntry, StaffRole
from server.services import consent, staff
from server.services.audit import Actor
from tests.conftest import PASSWORD, Api, beneficiary_body
from tests.console.conftest import Console


def _account_path(admin: Console, username: str) -> str:
    return re.search(rf'href="(/admin/staff/[0-9a-f-]+)">{username}<', admin.get("/admin/staff").text).group(1)


def test_an_admin_resets_and_disables_an_account_which_then_cannot_sign_in(app, console, live_url) -> None:
    admin = console("admin")
    path = _account_path(admin, "supervisor_b")
    colleague = console("supervisor_b")
    page = admin.get(path)
    assert page.status_code == 200 and "停用账号" in page.text and "重置密码" in page.text

    changed = admin.post(
        path, {"display_name": "乙镇审核员", "role": "supervisor", "region_code": "431099002", "reason": "改用真实姓名"}
    )
    assert "账号已修改" in changed.text and "乙镇审核员" in changed.text
    assert (
        "内容没有变化"
        in admin.post(
            path, {"display_name": "乙镇审核员", "role": "supervisor", "region_code": "431099002", "reason": "再存一次"}
        ).text
    )

    new = "another long password 7"
    reset = admin.post(
        f"{path}/password", {"password": new, "confirm_password": new, "reason": "忘记密码"}, token_from=path
    )
    assert "密码已重置" in reset.text
    assert "/login" in colleague.get("/cases").url, "a reset ends the person's sessions"
    colleague = Console(live_url).sign_in("supervisor_b", new)

    disabled = admin.post(f"{path}/active", {"active": "0", "reason": "已调离"}, token_from=path)
    assert "已停用" in disabled.text and "启用账号" in disabled.text
    assert "/login" in colleague.get("/cases").url, "disabling ends the person's sessions at once"
    refused = Console(live_url).post("/login", {"username": "supervisor_b", "password": new})
    assert refused.status_code == 401 and "用户名或密码错误" in refused.text

    with app.app_context():
        entries = (
            db.session()
            .scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == "staff_user", AuditEntry.reason.is_not(None))
                .order_by(AuditEntry.seq)
            )
            .all()
        )
    assert [(e.action, e.reason) for e in entries] == [
        ("staff.updated", "改用真实姓名"),
        ("staff.password_reset", "忘记密码"),
        ("staff.updated", "已调离"),
    ]
    assert new not in str([e.details for e in entries])
    # The account's page shows the trail in words.
    assert "管理员重置密码" in admin.get(path).text


def test_an_admin_may_not_disable_their_own_account(console) -> None:
    admin = console("admin")
    path = _account_path(admin, "admin")
    page = admin.get(path)
    assert "这是您自己的账号" in page.text and "停用账号" not in page.text
    refused = admin.post(f"{path}/active", {"active": "0", "reason": "试试"}, token_from=path)
    assert "不能停用或降级您自己的账号" in refused.text
    assert console("supervisor_a").get(path).status_code == 403


def test_a_revoked_phone_can_no_longer_fetch_a_challenge(api, console, world) -> None:
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 5)).json()["id"]
    code = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={"label": "红米"}).json()["activation_code"]
    activated = api.post("/api/v1/devices/activate", json={"code": code, "consent_version": consent.VERSION})
    phone = Api(api.base_url, activated.json()["access_token"])
    # Not enrolled yet, but the phone is who it says it is.
    assert phone.post("/api/v1/checkin-challenges", json={}).status_code == 409

    admin = console("admin")
    everyone = admin.get("/admin/devices")
    assert "红米" in everyone.text and "使用中" in everyone.text
    listed = admin.get("/admin/devices", params={"beneficiary": person})
    assert "测试5的手机" in listed.text
    action = re.search(r'action="(/admin/devices/[0-9a-f-]+/[0-9a-f-]+/revoke)"', listed.text).group(1)
    revoked = admin.post(action, {"reason": "手机丢失"}, token_from=f"/admin/devices?beneficiary={person}")
    assert "手机已撤销" in revoked.text and "已撤销" in revoked.text

    refused = phone.post("/api/v1/checkin-challenges", json={})
    assert refused.status_code == 401 and refused.json()["errors"]
    assert admin.get("/admin/devices", params={"state": "active"}).text.count("红米") == 0
    # The person's page leads an admin to their phones; a supervisor has no such page.
    assert f"/admin/devices?beneficiary={person}" in admin.get(f"/people/{person}").text
    assert console("supervisor_a").get("/admin/devices").status_code == 403
    assert console("admin").get("/admin/devices", params={"beneficiary": "not-a-uuid"}).status_code == 422


def test_devices_outside_the_region_do_not_exist(api, console, world, app) -> None:
    supervisor = api.as_("supervisor_b")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_b"], 6)).json()["id"]
    supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={"label": "外乡手机"})
    assert "外乡手机" in console("admin").get("/admin/devices").text
    with app.app_context():
        staff.create_staff_user(
            Ctx.current(),
            actor=Actor.system(),
            username="admin_a",
            password=PASSWORD,
            role=StaffRole.ADMIN,
            region_code=world["township_a"],
        )
        db.session().commit()
    township_admin = console("admin_a")
    assert "外乡手机" not in township_admin.get("/admin/devices").text
    assert township_admin.get("/admin/devices", params={"beneficiary": person}).status_code == 404
