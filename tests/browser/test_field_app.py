"""The field worker's app in a real browser: Chromium against the live server, the real worker and
Redis. A day's round offline (three visits with photos and a GPS trace), a reload with the network gone,
a sync whose first answer is lost, a stale edit redone, enrolment photos judged at once, the activation
QR code, and an assisted check-in through the fake camera.

Every screen is photographed at 360×740 in Chinese and English into tests/screenshots/field/.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from geographiclib.geodesic import Geodesic
from playwright.sync_api import Page, expect
from sqlalchemy import select

from server import db
from server.models import Visit, VisitFlag, VisitPhoto
from tests.conftest import beneficiary_body, office_today, wait_for
from tests.support.browser import screenshot
from tests.support.cases import open_test_case
from tests.support.phone_clips import CLICK_AT, write_genuine_clip
from tests.support.photos import photo_bytes

pytestmark = pytest.mark.usefixtures("celery_worker")

HOME = (27.83, 112.92)  # where beneficiary_body registers everyone's home
BRAND = {"zh": "民政走访", "en": "Home visits"}
CONTRACT_LIGHT = {"colours": ["#ff0000", "#0000ff", "#00ff00", "#ffffff"], "step_ms": 700}


def _fix(metres: float = 0.0, accuracy: float = 8) -> dict:
    moved = Geodesic.WGS84.Direct(HOME[0], HOME[1], 90.0, metres)
    return {"latitude": moved["lat2"], "longitude": moved["lon2"], "accuracy": accuracy}


def _people(api, world, count: int) -> list[str]:
    supervisor = api.as_("supervisor_a")
    return [
        supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], n)).json()["id"]
        for n in range(1, count + 1)
    ]


def _screen(page: Page, name: str, timeout: float = 15_000):
    locator = page.locator(f'[data-screen="{name}"]')
    expect(locator).to_be_visible(timeout=timeout)
    return locator


def _both_languages(page: Page, name: str) -> None:
    """Photograph the screen in the page's language, switch, photograph it in the other, switch back."""
    first = "zh" if page.evaluate("() => document.documentElement.lang") == "zh-CN" else "en"
    second = "en" if first == "zh" else "zh"
    screen = page.locator("[data-screen]").get_attribute("data-screen")
    screenshot(page, "field", f"{name}-{first}")
    page.click("#lang")
    expect(page.locator("#brand")).to_have_text(BRAND[second])
    _screen(page, screen)
    screenshot(page, "field", f"{name}-{second}")
    page.click("#lang")
    expect(page.locator("#brand")).to_have_text(BRAND[first])
    _screen(page, screen)


def _photo_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(photo_bytes(name))
    return path


def _login(page: Page, live_url: str, console_errors, *, photograph: bool = False) -> None:
    page.goto(f"{live_url}/m/field.html")
    _screen(page, "login")
    if photograph:
        _both_languages(page, "01-login")
    page.fill("#username", "worker_a")
    page.fill("#password", "wrong")
    # The browser logs the refused login.
    console_errors.expect("401 (UNAUTHORIZED)")
    page.click("#login")
    expect(page.locator(".msg-error")).to_be_visible()
    page.fill("#username", "worker_a")
    page.fill("#password", "correct horse battery staple")
    page.click("#login")
    _screen(page, "home", timeout=30_000)


def _answer_checklist(page: Page) -> None:
    page.check('[data-question="present"] input[value="beneficiary"]')
    page.check('[data-question="living_conditions"] input[value="basic"]')
    for name in (
        "household_members_changed",
        "income_changed",
        "employment_changed",
        "vehicle_changed",
        "housing_changed",
    ):
        page.check(f'[data-question="{name}"] input[value="false"]')
    page.check('[data-question="health"] input[value="chronic_illness"]')


def _record_visit(page: Page, context, person: str, fixes: list[dict], photo: Path, *, photograph: str = "") -> None:
    """Open the person, start a visit, take a fix per entry of `fixes`, answer, photograph, save."""
    page.click(f'#people [data-id="{person}"]')
    _screen(page, "person")
    if photograph:
        _both_languages(page, f"{photograph}-person")
    context.set_geolocation(fixes[0])
    page.click("#start-visit")
    _screen(page, "visit")
    expect(page.locator("#gps")).to_have_attribute("data-fixes", "1")
    for n, fix in enumerate(fixes[1:], start=2):
        context.set_geolocation(fix)
        page.click("#fix-now")
        expect(page.locator("#gps")).to_have_attribute("data-fixes", str(n))
    _answer_checklist(page)
    page.check('[data-question="outcome"] input[value="confirmed_present"]')
    page.set_input_files("#photo-input", str(photo))
    expect(page.locator("#thumbs img")).to_have_count(1)
    page.fill("#notes", "老人在家，精神尚可")
    if photograph:
        screenshot(page, "field", f"{photograph}-visit-form-zh")
    page.click("#save")
    _screen(page, "visit-detail")
    page.click(".back")
    _screen(page, "visits")
    page.click(".back")
    _screen(page, "home")


@contextmanager
def _first_sync_answer_cut(app) -> Iterator[list[str]]:
    """The server commits the first sync batch and then loses the connection halfway through its answer
    (what a phone sees when the signal goes, or the server dies, as it answers). A page's service worker
    passes API requests through, and Playwright's routing does not see those, so the cut is made here."""
    inner = app.wsgi_app
    cut: list[str] = []

    def wsgi(environ, start_response):
        if environ["PATH_INFO"] != "/api/v1/visits/sync" or cut:
            return inner(environ, start_response)
        answered: dict = {}
        body = b"".join(inner(environ, lambda status, headers, exc_info=None: answered.update(status=status)))
        cut.append(answered["status"])
        start_response(answered["status"], [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])

        def half():
            yield body[: len(body) // 2]
            raise ConnectionResetError("the answer is lost on the way back")

        return half()

    app.wsgi_app = wsgi
    try:
        yield cut
    finally:
        app.wsgi_app = inner


def _visits(app) -> list[Visit]:
    with app.app_context():
        return db.session().scalars(select(Visit).order_by(Visit.started_at)).all()


def _photo_count(app, visit_id) -> int:
    with app.app_context():
        return len(db.session().scalars(select(VisitPhoto).where(VisitPhoto.visit_id == visit_id)).all())


def test_an_offline_round_of_three_visits_survives_a_reload_and_a_lost_sync_answer(
    app, api, world, live_url, phone_context, console_errors, tmp_path
):
    near, far, poor = _people(api, world, 3)
    supervisor = api.as_("supervisor_a")
    case_id = open_test_case(app, near)
    worker_id = api.as_("worker_a").get("/api/v1/me").json()["id"]
    due = (office_today() + timedelta(days=5)).isoformat()
    ordered = supervisor.post(
        f"/api/v1/cases/{case_id}/decisions",
        json={"decision": "order_visit", "reason": "no check-in", "field_worker_id": worker_id, "due_on": due},
    )
    assert ordered.status_code == 201, ordered.text
    context = phone_context(geolocation=_fix())
    page = console_errors.watch(context.new_page())
    photo = _photo_file(tmp_path, "obama.jpg")

    _login(page, live_url, console_errors, photograph=True)
    expect(page.locator(f'#tasks [data-id="{near}"]')).to_be_visible()
    expect(page.locator("#people .person")).to_have_count(3)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    _both_languages(page, "02-home-prepared")

    context.set_offline(True)
    expect(page.locator("#network.offline")).to_be_visible()
    # The worse-than-100-m fix first: the app asks to wait, the next fix is good.
    page.click(f'#people [data-id="{near}"]')
    page.click("#start-visit")
    _screen(page, "visit")
    expect(page.locator("#gps")).to_have_attribute("data-fixes", "1")
    context.set_geolocation(_fix(20, accuracy=150))
    page.click("#fix-now")
    expect(page.locator("#gps")).to_have_attribute("data-accuracy", "150")
    page.click("#save")
    expect(page.locator("#problem .msg-error")).to_be_visible()
    screenshot(page, "field", "04-visit-missing-answers-zh")
    _answer_checklist(page)
    page.check('[data-question="outcome"] input[value="confirmed_present"]')
    page.set_input_files("#photo-input", str(photo))
    expect(page.locator("#thumbs img")).to_have_count(1)
    page.click("#save")
    expect(page.locator("#save-anyway")).to_be_visible()
    screenshot(page, "field", "05-visit-poor-fix-zh")
    context.set_geolocation(_fix(10, accuracy=6))
    page.click("#fix-now")
    expect(page.locator("#gps")).to_have_attribute("data-accuracy", "6")
    page.click("#save")
    _screen(page, "visit-detail")
    expect(page.locator("#saved")).to_be_visible()
    _both_languages(page, "06-visit-saved-offline")
    page.goto(f"{live_url}/m/field.html#/home")
    _screen(page, "home")

    _record_visit(page, context, far, [_fix(2000), _fix(2010)], photo, photograph="03")
    _record_visit(page, context, poor, [_fix(30), _fix(40)], photo)
    expect(page.locator("#waiting")).to_have_attribute("data-count", "3")

    # Closed and opened again with the network still gone: the shell and the queue are on the phone.
    page.reload()
    _screen(page, "home")
    expect(page.locator("#waiting")).to_have_attribute("data-count", "3")
    _both_languages(page, "07-home-offline-waiting")
    # Logging out now would lose the round: the app says so first.
    page.click("#logout")
    _screen(page, "logout")
    expect(page.locator("#logout-anyway")).to_be_visible()
    _both_languages(page, "07-logout-unsynced")
    page.click("text=返回")
    _screen(page, "home")
    page.click("#to-visits")
    expect(page.locator('#visit-list [data-state="queued"]')).to_have_count(3)
    _both_languages(page, "07-visits-queued-offline")
    page.click("text=返回")
    _screen(page, "home")

    # The signal returns: the automatic sync reaches the server, which stores the batch, but the
    # connection drops halfway through the answer.
    console_errors.expect("ERR_CONTENT_LENGTH_MISMATCH")
    with _first_sync_answer_cut(app) as cut:
        context.set_offline(False)
        wait_for(lambda: cut, timeout=20)
    assert cut == ["200 OK"] and len(_visits(app)) == 3
    expect(page.locator("#waiting")).to_have_attribute("data-count", "3")
    page.click("#sync")
    _screen(page, "sync-result", timeout=30_000)
    expect(page.locator('#results [data-status="duplicate"]')).to_have_count(3)
    expect(page.locator("#waiting")).to_have_attribute("data-count", "0", timeout=20_000)
    _both_languages(page, "08-sync-result")

    visits = _visits(app)
    assert len(visits) == 3 and len({v.client_id for v in visits}) == 3
    by_person = {str(v.beneficiary_id): v for v in visits}
    # Opened, the poor tap, the save refused, the good tap, the save.
    assert [round(f["accuracy_m"]) for f in by_person[near].gps_fixes] == [8, 150, 150, 6, 6]
    assert len(by_person[far].gps_fixes) == 3
    with app.app_context():
        rows = db.session().execute(select(VisitFlag.visit_id, VisitFlag.code)).all()
    flags = {
        person: sorted(code.value for visit_id, code in rows if visit_id == v.id) for person, v in by_person.items()
    }
    # Only the household 2 km out is far from home; walking 2 km between visits a minute apart is also
    # impossible travel, for it and its neighbours in time.
    assert [p for p, f in flags.items() if "far_from_home" in f] == [far]
    assert all(set(f) <= {"far_from_home", "impossible_travel"} for f in flags.values())
    for visit in visits:
        assert _photo_count(app, visit.id) == 1
        assert visit.started_at < visit.ended_at
    task = api.as_("worker_a").get("/api/v1/visit-tasks").json()[0]
    assert task["state"] == "done" and task["visit_id"] == str(by_person[near].id)

    page.click("#to-visits")
    _screen(page, "visits")
    expect(page.locator('#visit-list [data-state="synced"]')).to_have_count(3)
    page.click(f'#visit-list [data-cid="{by_person[far].client_id}"]')
    expect(page.locator("#flags")).to_be_visible()
    _both_languages(page, "09-visit-synced-flagged")

    # Logging out with nothing waiting clears the token and the phone's data.
    page.goto(f"{live_url}/m/field.html#/logout")
    _screen(page, "login")
    assert page.evaluate("() => localStorage.getItem('fc.field.token')") is None
    assert page.evaluate("async () => (await indexedDB.databases()).length") == 0


def _no_face_photo(tmp_path: Path) -> Path:
    """A well-lit, sharp photo of a wall: no face in it."""
    rng = np.random.default_rng(7)
    wall = np.clip(rng.normal(170, 25, (480, 640, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "wall.jpg"
    path.write_bytes(cv2.imencode(".jpg", wall)[1].tobytes())
    return path


def _visit_online(page: Page, person: str, photo: Path) -> str:
    """Record a visit with the network up: it is sent at once. Returns its client id."""
    page.click(f'#people [data-id="{person}"]')
    page.click("#start-visit")
    _screen(page, "visit")
    expect(page.locator("#gps")).to_have_attribute("data-fixes", "1")
    _answer_checklist(page)
    page.check('[data-question="outcome"] input[value="confirmed_present"]')
    page.set_input_files("#photo-input", str(photo))
    expect(page.locator("#thumbs img")).to_have_count(1)
    page.click("#save")
    _screen(page, "visit-detail")
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "synced", timeout=20_000)
    return page.evaluate("() => new URLSearchParams(location.hash.split('?')[1]).get('cid')")


def test_a_stale_edit_is_shown_and_redone_and_enrolment_photos_are_judged_at_once(
    app, api, world, live_url, phone_context, console_errors, tmp_path
):
    person, mover, elsewhere = _people(api, world, 3)
    context = phone_context(geolocation=_fix(15))
    page = console_errors.watch(context.new_page())
    photo = _photo_file(tmp_path, "obama.jpg")
    page.goto(f"{live_url}/m/field.html")
    _screen(page, "login")
    page.click("#lang")
    expect(page.locator("#brand")).to_have_text(BRAND["en"])
    page.fill("#username", "worker_a")
    page.fill("#password", "correct horse battery staple")
    page.click("#login")
    _screen(page, "home", timeout=30_000)

    # Someone moved to another township after the download: their visit comes back refused, in words.
    admin = api.as_("admin")
    etag = admin.get(f"/api/v1/beneficiaries/{mover}").headers["ETag"]
    moved = admin.patch(
        f"/api/v1/beneficiaries/{mover}", json={"village_code": world["village_b"]}, headers={"If-Match": etag}
    )
    assert moved.status_code == 200, moved.text
    context.set_offline(True)
    _record_visit(page, context, mover, [_fix(5)], photo)
    context.set_offline(False)
    page.click("#to-visits")
    expect(page.locator('#visit-list [data-state="rejected"]')).to_have_count(1, timeout=20_000)
    page.click("#sync")
    _screen(page, "sync-result")
    expect(page.locator('#results [data-status="rejected"]')).to_contain_text("Outside your area")
    _both_languages(page, "08-sync-result-rejected")
    page.goto(f"{live_url}/m/field.html#/home")
    _screen(page, "home")

    page.click(f'#people [data-id="{person}"]')
    page.click("#start-visit")
    _screen(page, "visit")
    expect(page.locator("#gps")).to_have_attribute("data-fixes", "1")
    screenshot(page, "field", "03-visit-form-en")
    page.click("#cancel")
    _screen(page, "person")
    page.click("text=Back")
    client_id = _visit_online(page, person, photo)
    [visit] = [v for v in _visits(app) if v.client_id == client_id]
    assert _photo_count(app, visit.id) == 1

    # Edited on the phone offline, while the same visit is changed from the office.
    context.set_offline(True)
    page.click("#edit")
    _screen(page, "edit")
    page.fill("#notes", "edited on the phone")
    screenshot(page, "field", "10-edit-en")
    page.click("#save")
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "edit_queued")
    office = api.as_("worker_a").patch(
        f"/api/v1/visits/{visit.id}", json={"based_on_version": 1, "notes": "edited at the office"}
    )
    assert office.status_code == 200 and office.json()["version"] == 2
    context.set_offline(False)
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "conflict", timeout=20_000)
    _both_languages(page, "11-visit-conflict")
    page.click("#see-conflict")
    _screen(page, "conflict")
    expect(page.locator("#mine")).to_contain_text("edited on the phone")
    expect(page.locator("#theirs")).to_contain_text("edited at the office")
    _both_languages(page, "12-conflict")
    page.click("#redo")
    _screen(page, "edit")
    expect(page.locator("#notes")).to_have_value("edited on the phone")
    page.click("#save")
    expect(page.locator("#visit-state")).to_have_attribute("data-state", "synced", timeout=20_000)
    with app.app_context():
        stored = db.session().get(Visit, visit.id)
        assert (stored.version, stored.notes) == (3, "edited on the phone")

    # Enrolment: photos are taken one by one (a phone's camera gives one a shot) and sent together; a
    # photo without a face is refused in words at once and dropped, the good ones kept and enrolled.
    page.goto(f"{live_url}/m/field.html#/person?id={person}")
    _screen(page, "person")
    _both_languages(page, "13-person-not-enrolled")
    page.click("#enrol")
    _screen(page, "enrol")
    _both_languages(page, "14-enrol")
    console_errors.expect("422 (UNPROCESSABLE ENTITY)")
    page.set_input_files("#enrol-input", str(photo))
    expect(page.locator("#enrol-thumbs")).to_have_attribute("data-count", "1")
    expect(page.locator("#enrol-count")).to_have_text("1 taken; 5 recommended")
    page.set_input_files("#enrol-input", str(_no_face_photo(tmp_path)))
    expect(page.locator("#enrol-thumbs")).to_have_attribute("data-count", "2")
    page.click("#enrol-send")
    expect(page.locator('#verdict[data-kind="error"]')).to_contain_text("Photo 2 cannot be used", timeout=20_000)
    expect(page.locator("#verdict")).to_contain_text("No face in the photo")
    expect(page.locator("#enrol-thumbs")).to_have_attribute("data-count", "1")
    _both_languages(page, "15-enrol-no-face")
    page.set_input_files("#enrol-input", str(_photo_file(tmp_path, "obama2.jpg")))
    expect(page.locator("#enrol-thumbs")).to_have_attribute("data-count", "2")
    _both_languages(page, "16-enrol-taken")
    page.click("#enrol-send")
    expect(page.locator('#verdict[data-kind="ok"]')).to_contain_text("Face enrolled", timeout=60_000)
    expect(page.locator("#enrol-thumbs")).to_have_count(0)
    # Said once, by the verdict; and what a photo sent now would do: add, unless replacing is chosen, and only
    # once a supervisor approves.
    expect(page.locator("#verdict")).to_have_text("Face enrolled")
    expect(page.locator("#enrol-state")).to_have_count(0)
    expect(page.locator("#enrol-approval")).to_contain_text("once a supervisor approves")
    expect(page.locator("#replace")).not_to_be_checked()
    _both_languages(page, "16-enrol-enrolled")
    supervisor = api.as_("supervisor_a")
    enrolment = supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()
    assert enrolment["state"] == "enrolled"
    assert [p["state"] for p in enrolment["photos"]] == ["encoded", "encoded"]

    # One more photo for the enrolled person: the screen says it waits for a supervisor, and it does.
    page.set_input_files("#enrol-input", str(_photo_file(tmp_path, "obama3.jpg")))
    page.click("#enrol-send")
    proposed = page.locator('#verdict[data-kind="info"]')
    expect(proposed).to_contain_text("added once a supervisor approves", timeout=20_000)
    # The proposal's verdict says what the general note said, and more: the note is not said again beside it.
    expect(page.locator("#enrol-approval")).to_have_count(0)
    _both_languages(page, "16-enrol-proposed")
    pending = supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["pending_change"]
    assert (pending["kind"], pending["status"]) == ("add", "pending")
    # While it waits nothing more can be sent (the server takes one proposal at a time), and coming back to
    # the screen says why.
    expect(page.locator('label[for="enrol-input"]')).to_have_count(0)
    expect(page.locator("#enrol-send")).to_have_count(0)
    _reenter_enrolment(page)
    expect(page.locator("#enrol-pending")).to_contain_text("wait for a supervisor's approval")
    expect(page.locator('label[for="enrol-input"]')).to_have_count(0)
    _both_languages(page, "16-enrol-pending")

    # Once it is approved the screen counts the photos on file and takes no more than the server keeps:
    # two more to add, and with five on file new photos can only replace them, so replacing is then chosen.
    _approve_and_wait(supervisor, person, pending["id"], encoded=3)
    _reenter_enrolment(page)
    expect(page.locator("#enrol-kept")).to_have_attribute("data-count", "3")
    expect(page.locator("#enrol-pending")).to_have_count(0)
    expect(page.locator("#replace")).not_to_be_checked()
    page.set_input_files("#enrol-input", [str(photo), str(_photo_file(tmp_path, "obama2.jpg"))])
    expect(page.locator("#enrol-count")).to_have_text("2 taken")
    expect(page.locator('label[for="enrol-input"]')).to_have_count(0)
    page.click("#enrol-send")
    proposed = page.locator('#verdict[data-kind="info"]')
    expect(proposed).to_contain_text("added once a supervisor approves", timeout=20_000)
    pending = supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["pending_change"]
    _approve_and_wait(supervisor, person, pending["id"], encoded=5)
    _reenter_enrolment(page)
    expect(page.locator("#enrol-kept")).to_have_attribute("data-count", "5")
    expect(page.locator("#replace")).to_be_checked()
    expect(page.locator("#enrol-full")).to_have_count(0)
    expect(page.locator('label[for="enrol-input"]')).to_be_visible()
    page.uncheck("#replace")
    expect(page.locator("#enrol-full")).to_contain_text("Already 5 photos")
    expect(page.locator('label[for="enrol-input"]')).to_have_count(0)
    _both_languages(page, "16-enrol-full")
    page.check("#replace")
    expect(page.locator("#enrol-full")).to_have_count(0)

    page.click("text=Back")
    _screen(page, "person")
    page.click("#activation")
    _screen(page, "activation")
    expect(page.locator("#qr")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#qr').naturalWidth > 0")
    assert len(page.locator("#activation-code").inner_text().replace("-", "")) >= 8
    _both_languages(page, "17-activation")

    # Enrolled meanwhile by someone else: the phone's list still says not enrolled; the enrolment screen
    # reads how the enrolment stands, and the person's screen agrees from then on.
    files = [("photos", ("biden.jpg", photo_bytes("biden.jpg"), "image/jpeg"))]
    assert supervisor.post(f"/api/v1/beneficiaries/{elsewhere}/photos", files=files).status_code == 202
    wait_for(lambda: supervisor.get(f"/api/v1/beneficiaries/{elsewhere}/enrolment").json()["state"] == "enrolled")
    page.goto(f"{live_url}/m/field.html#/person?id={elsewhere}")
    expect(_screen(page, "person")).to_contain_text("Face not enrolled")
    page.click("#enrol")
    _screen(page, "enrol")
    expect(page.locator("#enrol-state")).to_have_text("Face enrolled")
    expect(page.locator("#enrol-kept")).to_have_attribute("data-count", "1")
    page.click("text=Back")
    person_screen = _screen(page, "person")
    expect(person_screen).to_contain_text("Face enrolled")
    expect(person_screen).not_to_contain_text("Face not enrolled")


def _reenter_enrolment(page: Page) -> None:
    """Back to the person, and into their enrolment again."""
    page.click("text=Back")
    _screen(page, "person")
    page.click("#enrol")
    _screen(page, "enrol")


def _approve_and_wait(supervisor, person: str, change_id: str, *, encoded: int) -> None:
    """A supervisor approves the proposed photo change; wait until `encoded` photos count."""
    answer = supervisor.post(f"/api/v1/beneficiaries/{person}/photo-changes/{change_id}/approve", json={})
    assert answer.status_code == 200, answer.text

    def photo_states() -> list[str]:
        return [p["state"] for p in supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["photos"]]

    wait_for(lambda: photo_states().count("encoded") == encoded)


def _tap_start_on_cue(page: Page) -> None:
    """Tap "start" when the camera clip has played CLICK_AT seconds (the clip's actions are timed from it)."""
    page.wait_for_function("() => document.querySelector('#preview')?.currentTime > 0", timeout=15_000)
    page.evaluate(
        """(at) => new Promise((resolve) => {
            const video = document.querySelector('#preview');
            const tick = () => {
                if (video.currentTime >= at) { document.querySelector('#start').click(); resolve(); }
                else requestAnimationFrame(tick);
            };
            tick();
        })""",
        CLICK_AT,
    )


def _assist_preview(page: Page, language: str) -> None:
    """Open the assisted check-in from the visit and photograph its preview once the picture is good."""
    page.click("#assist")
    _screen(page, "assist")
    expect(page.locator("#assisted-label")).to_be_visible()
    # The picture check the person's own phone makes, for the worker holding it: the face is well placed and lit.
    expect(page.locator("#hint")).to_have_attribute("data-hint", "ok", timeout=10_000)
    expect(page.locator("#hint")).to_contain_text({"zh": "很好", "en": "Good"}[language])
    screenshot(page, "field", f"18-assist-preview-{language}")


def test_an_assisted_check_in_during_a_visit_ends_verified_and_proves_life_through_the_visit(
    app, api, world, live_url, phone_context, console_errors, camera_clip, tmp_path
):
    [person] = _people(api, world, 1)
    supervisor = api.as_("supervisor_a")
    files = [("photos", (name, photo_bytes(name), "image/jpeg")) for name in ("obama.jpg", "obama2.jpg")]
    assert supervisor.post(f"/api/v1/beneficiaries/{person}/photos", files=files).status_code == 202
    wait_for(lambda: supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["state"] == "enrolled")
    today = office_today()
    quarter = {"region_code": world["village_a"], "opens_on": (today - timedelta(days=10)).isoformat()}
    quarter["deadline"] = (today + timedelta(days=60)).isoformat()
    assert supervisor.post("/api/v1/cycles", json=quarter).status_code == 201
    # No service worker here: the test reads the challenge on its way to the page (routing cannot see
    # requests a service worker passes through), and this test is about the capture, not offline.
    context = phone_context(geolocation=_fix(10), service_workers="block")
    page = console_errors.watch(context.new_page())

    def learn_challenge(route) -> None:
        response = route.fetch()
        body = response.json()
        assert body["mode"] == "assisted_staff" and body["visit_id"]
        body.setdefault("light", CONTRACT_LIGHT)
        write_genuine_clip(camera_clip, body, "obama.jpg")
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/checkin-challenges", learn_challenge)
    page.goto(f"{live_url}/m/field.html")
    page.fill("#username", "worker_a")
    page.fill("#password", "correct horse battery staple")
    page.click("#login")
    _screen(page, "home", timeout=30_000)
    _visit_online(page, person, _photo_file(tmp_path, "obama2.jpg"))
    _assist_preview(page, "zh")
    # The language stays put while the camera is open: a worker who wants the other one goes back, switches and
    # opens the check-in again (each opening is a new challenge).
    for language in ("en", "zh"):
        page.locator('[data-screen="assist"] .btn-secondary').click()
        _screen(page, "visit-detail")
        page.click("#lang")
        expect(page.locator("#brand")).to_have_text(BRAND[language])
        _assist_preview(page, language)
    _tap_start_on_cue(page)
    expect(page.locator("#prompt[data-action]")).to_be_visible(timeout=10_000)
    expect(page.locator("#hint")).to_have_count(0)
    screenshot(page, "field", "19-assist-prompt-zh")
    _screen(page, "assist-verified", timeout=90_000)
    _both_languages(page, "20-assist-verified")

    [visit] = _visits(app)
    shown = supervisor.get(f"/api/v1/visits/{visit.id}").json()
    assert [c["mode"] for c in shown["checkins"]] == ["assisted_staff"]
    assert shown["checkins"][0]["state"] == "verified" and shown["proof_of_life"] is True
    [cycle] = supervisor.get(f"/api/v1/beneficiaries/{person}/cycles").json()
    assert cycle["satisfied"] and "visit" in cycle["satisfied_by"]
    # Downloaded again, the person shows as checked in for this period.
    page.click("#assist-done")
    page.goto(f"{live_url}/m/field.html#/prepare")
    _screen(page, "home")
    expect(page.locator(f'#people [data-id="{person}"] .badge-covered')).to_be_visible()


def _reopen_home(page: Page, live_url: str) -> None:
    """Open the app afresh on its home screen, as a worker does who picks the phone up again."""
    page.goto(f"{live_url}/m/field.html#/home")
    page.reload()


def _prepared_days_ago(page: Page, days: int) -> None:
    """Date the round on the phone as prepared `days` ago (the test's stand-in for the days a phone lies unused)."""
    page.evaluate(
        """async (days) => {
            const { setMeta } = await import("/m/store.js");
            await setMeta("prepared_at", new Date(Date.now() - days * 86400000).toISOString());
        }""",
        days,
    )


def test_a_round_prepared_over_a_week_ago_is_deleted_when_the_app_opens_once_nothing_is_left_to_send(
    api, world, live_url, phone_context, console_errors, tmp_path
):
    [person] = _people(api, world, 1)
    context = phone_context(geolocation=_fix())
    page = console_errors.watch(context.new_page())
    _login(page, live_url, console_errors)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    context.set_offline(True)
    _record_visit(page, context, person, [_fix()], _photo_file(tmp_path, "obama.jpg"))
    expect(page.locator("#waiting")).to_have_attribute("data-count", "1")

    # Eight days on, a visit still waits to be sent: the round stays.
    _prepared_days_ago(page, 8)
    page.reload()
    expect(_screen(page, "home").locator("#waiting")).to_have_attribute("data-count", "1")
    context.set_offline(False)
    page.goto(f"{live_url}/m/field.html#/sync")
    expect(_screen(page, "sync-result", timeout=30_000).locator("#waiting")).to_have_attribute("data-count", "0")
    # Six days on, with nothing to send, it stays too.
    _prepared_days_ago(page, 6)
    _reopen_home(page, live_url)
    expect(_screen(page, "home").locator(f'#people [data-id="{person}"]')).to_be_visible()

    # A week and more, with nothing left to send: opening the app deletes the region's people and the session,
    # and says why.
    _prepared_days_ago(page, 8)
    _reopen_home(page, live_url)
    expect(_screen(page, "login").locator(".msg-error")).to_contain_text("已超过 7 天，已删除")
    _both_languages(page, "17-round-forgotten")
    kept = page.evaluate(
        """async () => {
            const { getMeta } = await import("/m/store.js");
            return { people: (await getMeta("people")) ?? null, token: localStorage.getItem("fc.field.token") };
        }"""
    )
    assert kept == {"people": None, "token": None}
