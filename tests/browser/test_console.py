"""The console in a real browser (the suite's Chromium, tests/browser/conftest.py) against the live server,
PostgreSQL and the worker: a quarter's story as two supervisors and an admin, then every page in both
languages with no untranslated text, no console errors, and a screenshot at 1366×768 of each."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from server import db
from server.context import Ctx
from server.models import AuditEntry, Beneficiary, StaffUser
from server.services import cycles, imports, jobs
from server.services.auth import staff_actor
from tests.conftest import PASSWORD, Api, id_number, office_today, wait_for
from tests.support.browser import screenshot, wait_for_images
from tests.support.checkins import activate, check_in, enrolled_person
from tests.support.cli import invoke
from tests.support.jobs import import_report
from tests.support.photos import photo_bytes
from tests.support.sessions import genuine_session

CATALOGS = Path(__file__).resolve().parents[2] / "server" / "web" / "translations"
VIEWPORT = {"width": 1366, "height": 768}


class Desk:
    """One person at one office PC: a browser context that records the page's console errors."""

    def __init__(self, browser: Browser, base_url: str, username: str) -> None:
        # Over HTTPS the suite's certificate is its own, made for the run.
        self.context = browser.new_context(
            viewport=VIEWPORT, locale="zh-CN", accept_downloads=True, ignore_https_errors=base_url.startswith("https:")
        )
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.go("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit].primary")
        expect(self.page.locator("header .who")).to_contain_text(username)

    def go(self, path: str) -> Page:
        self.page.goto(f"{self.base_url}{path}")
        return self.page

    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)


def _roster(tmp_path: Path, village: str) -> Path:
    lines = ["id_number,name,program,village_code,monthly_amount,home_lat,home_lon"]
    for serial, name in ((11, "王秀英"), (12, "李建国")):
        lines.append(f"{id_number(village, serial)},{name},rural_minimum_allowance,{village},335.00,27.83,112.92")
    path = tmp_path / "名册.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _verified_rate(page: Page) -> str:
    return page.locator("table").first.locator("tr.total td").nth(7).inner_text()


@pytest.mark.usefixtures("celery_worker")
def test_a_quarter_through_the_console(app, api, world, live_url, browser, tmp_path):
    today = cycles.local_today(cycles.office_zone(app.config["FIELDCHECK"]))
    admin = Desk(browser, live_url, "admin")
    first = Desk(browser, live_url, "supervisor_a")
    second = Desk(browser, live_url, "supervisor_a2")
    pages: dict[str, str] = {"login": "/login"}

    # The admin imports the roster: a per-row report, downloadable.
    page = admin.go("/imports")
    page.set_input_files("form[action$='/imports/roster'] input[type=file]", _roster(tmp_path, world["village_a"]))
    page.click("form[action$='/imports/roster'] button")
    # The import runs as a job: its page reloads itself until the report shows.
    expect(page.locator("#report")).to_contain_text("新增: 2", timeout=30_000)
    assert page.locator("#report-csv").get_attribute("href").endswith("/report.csv")
    admin_screens = {"import-report": admin.path()}
    screenshot(page, "console", "zh-imports-report")

    # The admin opens this quarter's cycle from the console.
    page = admin.go("/cycles")
    page.fill("form[action$='/cycles'] input[name=opens_on]", (today - timedelta(days=10)).isoformat())
    page.fill("form[action$='/cycles'] input[name=deadline]", (today + timedelta(days=5)).isoformat())
    page.click("form[action$='/cycles'] button")
    expect(page.locator(".flash.info")).to_contain_text("核查周期已创建")
    page.click("text=完成情况")
    cycle_path = admin.path()

    # One person enrols and has a phone (the phone app is another surface: the API stands in for it).
    supervisor_api = api.as_("supervisor_a")
    people = supervisor_api.get("/api/v1/beneficiaries", params={"name": "王秀英"}).json()
    person = people[0]["id"]
    # Two enrolment photos, as the office takes them: one photo alone leaves a held-out face near the limit.
    files = [("photos", (name, photo_bytes(name), "image/jpeg")) for name in ("obama.jpg", "obama2.jpg")]
    assert supervisor_api.post(f"/api/v1/beneficiaries/{person}/photos", files=files).status_code == 202
    wait_for(lambda: supervisor_api.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["state"] == "enrolled")
    code = supervisor_api.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    phone = Api(live_url, activate(api, code).json()["access_token"])

    page = first.go("/")
    before = _verified_rate(page)

    # Deadline and grace pass; the sweep opens missed_checkin cases; the queue shows them, soonest due first.
    assert invoke(app, "sweep", "--today", (today + timedelta(days=21)).isoformat()).exit_code == 0
    page = first.go("/cases?kind=missed_checkin")
    expect(page.locator(".counts")).to_contain_text("未按期认证: 2")
    row = page.locator("tr", has_text="王秀英")
    row.locator("button", has_text="分给我").click()
    expect(page.locator(".flash.info")).to_contain_text("案件已分配")
    pages["queue"] = "/cases"
    page.locator("tr", has_text="王秀英").locator("a").first.click()
    case_path = first.path()
    pages["case"] = case_path

    # The evidence: opening the photos asks for a reason, and the view is audited.
    page.fill("input[name=reason]", "电话联系不上，核实本人情况")
    page.click("button:has-text('查看照片')")
    page.wait_for_url(re.compile(r"reason="))
    photo = page.locator(".photos img").first
    expect(photo).to_be_visible()
    wait_for_images(page)
    with app.app_context():
        viewed = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "biometric.viewed")).all()
        # One entry per photo shown, each with the reason.
        assert [(e.actor_kind, e.reason) for e in viewed] == [("staff", "电话联系不上，核实本人情况")] * 2
    screenshot(page, "console", "zh-case-evidence")

    # The first supervisor proposes a suspension; they cannot approve it themselves.
    page = first.go(case_path)
    page.click("summary:has-text('提议暂停发放')")
    effective_on = (today.replace(day=1) - relativedelta(months=2)).isoformat()
    form = page.locator("form:has(input[value=suspend])")
    form.locator("input[name=effective_on]").fill(effective_on)
    form.locator("textarea[name=reason]").fill("本季度未认证，联系不上")
    form.locator("button").click()
    expect(page.locator("#pending")).to_contain_text("须由另一名审核员批准")
    expect(page.locator("#pending button", has_text="批准")).to_have_count(0)
    decision_id = page.locator("#pending form").first.get_attribute("action").split("/")[-2]
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(
        f"{live_url}{case_path}/decisions/{decision_id}/approve",
        form={"csrf_token": token, "reason": ""},
        headers={"Referer": f"{live_url}{case_path}"},
    )
    assert "须由另一名审核员批准" in refused.text()

    # The second supervisor approves: payment stops and a notice exists.
    page = second.go(case_path)
    expect(page.locator("#pending h3")).to_contain_text("提议人")
    expect(page.locator("#pending h3")).to_contain_text("supervisor_a")
    page.locator("#pending button.danger").click()
    expect(page.locator(".flash.info")).to_contain_text("提议已批准")
    expect(page.locator("dl.facts")).to_contain_text("已暂停")

    # Print the notice (A4, Chinese), then record the person's appeal.
    page = second.go(f"/people/{person}")
    pages["person"] = f"/people/{person}"
    page.click("text=详情")
    pages["suspension"] = second.path()
    page.click("a:has-text('暂停发放告知书')")
    pages["notice"] = second.path()
    expect(page.locator("article.notice h1")).to_have_text("暂停发放告知书")
    expect(page.locator("article.notice")).to_contain_text("申请复核截止日期")
    page.emulate_media(media="print")
    screenshot(page, "console", "zh-notice-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    page = second.go(pages["suspension"])
    page.fill("textarea[name=reason]", "本人去外地打工，已回家")
    page.click("text=登记复核申请 >> nth=-1")
    expect(page.locator(".flash.info")).to_contain_text("复核申请已登记")

    # Reinstating before proof of life is refused in words; after a verified check-in the arrears show first.
    page = first.go(f"/people/{person}/reinstate")
    expect(page.locator(".flash.error")).to_contain_text("须先完成一次认证")
    assert check_in(phone, lambda a: genuine_session("obama3.jpg", a, seed=62))["status"] == "verified"
    page = first.go(f"/people/{person}/reinstate")
    pages["reinstate"] = f"/people/{person}/reinstate"
    expect(page.locator("#arrears")).to_contain_text(f"¥{2 * Decimal('335.00')}")
    screenshot(page, "console", "zh-reinstate-arrears")
    page.fill("textarea[name=reason]", "已完成人脸认证")
    page.click("text=确认恢复发放")
    expect(page.locator(".flash.info")).to_contain_text("已恢复发放")
    expect(page.locator("h1 .badge")).to_have_text("正常")

    # The payment run for this month: totals, and both downloads.
    page = first.go("/payment-runs")
    page.fill("input[name=region]", world["township_a"])
    page.click("text=生成发放批次")
    # Built as a job: the page refreshes itself until the worker is done.
    expect(page.locator(".flash.info")).to_contain_text("发放批次已生成", timeout=30_000)
    pages["run"] = first.path()
    expect(page.locator("table")).to_contain_text("恢复发放并补发")
    for link, suffix in (("#download-csv", ".csv"), ("#download-xlsx", ".xlsx")):
        with page.expect_download() as download:
            page.click(link)
        assert download.value.suggested_filename.endswith(suffix)
        assert Path(download.value.path()).stat().st_size > 0

    # Coverage moved: someone verified this quarter (the overview keeps its counts a few minutes: count again).
    page = first.go("/")
    page.click("button:has-text('重新统计')")
    assert _verified_rate(page) != before

    # The admin's pages: an account, everyone's phones and this person's, and an import still waiting.
    page = admin.go("/admin/staff")
    page.click("a:text-is('supervisor_b')")
    admin_screens["admin-account"] = admin.path()
    admin_screens |= {"admin-phones": "/admin/devices", "admin-person-phones": f"/admin/devices?beneficiary={person}"}
    with app.app_context():
        context = Ctx.current()
        user = context.session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
        waiting = jobs.start_job(
            context,
            actor=staff_actor(user),
            kinds=imports.KINDS,
            kind=imports.ROSTER,
            data=_roster(tmp_path, world["village_a"]).read_bytes(),
            params={},
            ring=lambda *_: None,
        )
    # Never handed to the worker: it stays queued, and its page shows the progress bar and reloads.
    admin_screens["import-waiting"] = f"/imports/jobs/{waiting.id}"

    # Every page in both languages: translated, no console errors, a screenshot each.
    pages |= {
        "overview": "/",
        "checkins": "/checkins",
        "registry": "/people",
        "edit": f"/people/{person}/edit",
        "suspensions": "/suspensions?ongoing=all",
        "imports": "/imports",
        "cycles": "/cycles",
        "cycle": cycle_path,
        "runs": "/payment-runs",
        "visits": "/visits",
        "password": "/password",
    }
    every_page_in_both_languages(first, pages)
    every_page_in_both_languages(admin, {"admin-staff": "/admin/staff", "admin-audit": "/admin/audit", **admin_screens})
    for desk in (admin, first, second):
        assert not desk.errors, desk.errors


@pytest.mark.usefixtures("celery_worker")
def test_a_wrong_death_record_through_the_console(app, api, world, live_url, browser):
    """Terminated on a wrong death record, the person comes to the office: the termination and its printed
    notice, the appeal recorded at the desk, the restoration with its arrears shown before two people
    confirm it, and the report that sends the record back to its source, in both languages."""
    person, phone = enrolled_person(api, world, 37, "obama.jpg", "obama2.jpg")
    with app.app_context():
        # On the rolls long before the death the record claims.
        db.session().execute(
            update(Beneficiary).where(Beneficiary.id == person).values(created_at=datetime(2026, 1, 5, tzinfo=UTC))
        )
        db.session().commit()
    died = office_today().replace(day=1) - relativedelta(months=2) + timedelta(days=9)
    row = f"{id_number(world['village_a'], 37)},{died.isoformat()},civil_registry,DR-2231"
    report = import_report(
        api.as_("supervisor_a"),
        "/api/v1/death-records/import",
        {"file": ("deaths.csv", f"id_number,date_of_death,source,reference\n{row}\n".encode(), "text/csv")},
    )
    case_path = f"/cases/{report['rows'][0]['case_id']}"
    first = Desk(browser, live_url, "supervisor_a")
    second = Desk(browser, live_url, "supervisor_a2")

    # Proposed by one supervisor, approved by another: the assistance ends from the recorded date of death.
    page = first.go(case_path)
    page.click("summary:has-text('提议终止救助')")
    form = page.locator("form:has(input[value=terminate])")
    expect(form.locator("input[name=effective_on]")).to_have_value(died.isoformat())
    form.locator("select[name=notice_reason]").select_option("death_recorded")
    form.locator("textarea[name=notice_text]").fill("如有异议，请本人带户口本到乡镇民政办")
    form.locator("textarea[name=reason]").fill("户籍系统推送的记录")
    form.locator("button").click()
    page = second.go(case_path)
    page.locator("#pending button.danger").click()
    expect(page.locator(".flash.info")).to_contain_text("提议已批准")

    # The terminations list, the termination, and its notice printed on A4.
    page = first.go("/terminations")
    pages = {"terminations": "/terminations"}
    page.locator("tr", has_text="测试").locator("a:has-text('详情')").click()
    pages["termination"] = first.path()
    page.click("a:has-text('终止救助告知书')")
    pages["termination-notice"] = first.path()
    expect(page.locator("article.notice h1")).to_have_text("终止救助告知书")
    expect(page.locator("article.notice")).to_contain_text("DR-2231")
    expect(page.locator("article.notice")).to_contain_text("如有异议，请本人带户口本到乡镇民政办")
    expect(page.locator("article.notice")).not_to_contain_text("户籍系统推送的记录")
    page.emulate_media(media="print")
    screenshot(page, "console", "zh-termination-notice-print")
    page.emulate_media(media="screen")

    # The person comes to the office: the appeal is recorded on the termination's page, and the case reopens.
    page = first.go(pages["termination"])
    page.fill("textarea[name=reason]", "本人到民政办当面说明，人还健在")
    page.click("button:has-text('登记复核申请')")
    expect(page.locator(".flash.info")).to_contain_text("复核申请已登记")
    assert first.path() == case_path

    # After a verified check-in, restoring shows the arrears before anyone confirms; a second person approves.
    assert check_in(phone, lambda a: genuine_session("obama3.jpg", a, seed=63))["status"] == "verified"
    page = first.go(case_path)
    page.click("summary:has-text('提议恢复救助')")
    form = page.locator("form:has(input[value=restore])")
    expect(form.locator("dl.facts")).to_contain_text(f"¥{2 * Decimal('335.00')}")
    screenshot(page, "console", "zh-restore-after-termination")
    form.locator("textarea[name=dispute_reason]").fill("本人刷脸核验成功，确认健在")
    form.locator("textarea[name=reason]").fill("复核：本人健在")
    form.locator("button").click()
    page = second.go(case_path)
    expect(page.locator("#restore-arrears")).to_contain_text(f"¥{2 * Decimal('335.00')}")
    pages["death-record-case"] = case_path
    screenshot(page, "console", "zh-restore-approval")
    page.locator("#pending button.danger").click()
    expect(page.locator(".flash.info")).to_contain_text("提议已批准")
    expect(second.go(f"/people/{person}").locator("h1 .badge")).to_have_text("正常")

    # The wrong record goes back to its source registry.
    page = first.go("/death-records/disputed")
    pages["disputed"] = "/death-records/disputed"
    expect(page.locator("table").last).to_contain_text("DR-2231")
    expect(page.locator("table").last).to_contain_text("本人刷脸核验成功，确认健在")

    # The restoration is the case's latest word: show the termination page as it stands afterwards too.
    every_page_in_both_languages(first, pages)
    for desk in (first, second):
        assert not desk.errors, desk.errors


def _english_msgids() -> set[str]:
    with open(CATALOGS / "en" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        # Only what is unmistakably English prose: two or more words.
        return {m.id for m in read_po(fh) if m.id and " " in m.id and "%(" not in m.id}


def _chinese_strings() -> set[str]:
    with open(CATALOGS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return {m.string for m in read_po(fh) if m.id and len(m.string) >= 4 and "%(" not in m.string}


def every_page_in_both_languages(desk: Desk, pages: dict[str, str]) -> None:
    english, chinese = _english_msgids(), _chinese_strings()
    for lang, button in (("zh", None), ("en", "English")):
        if button:
            desk.go("/")
            desk.page.click(f"header button:has-text('{button}')")
        for name, path in pages.items():
            page = desk.go(path)
            assert page.locator("h1").count() >= 1, name
            text = page.locator("body").inner_text()
            if lang == "zh":
                leaked = sorted(m for m in english if m in text)
            else:
                # The notice is a Chinese document whatever the console's language; names are data.
                leaked = [] if name.endswith("notice") else sorted(s for s in chinese if s in text)
            assert not leaked, (lang, name, leaked)
            screenshot(page, "console", f"{lang}-{name}")
    desk.go("/")
    desk.page.click("header button:has-text('中文')")
    assert re.search("总览", desk.page.locator("nav").inner_text())
