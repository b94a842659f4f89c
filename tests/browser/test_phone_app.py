"""The beneficiary's check-in app in a real browser: Chromium with a fake camera playing a clip rendered
from a real photo, against the live server, the real worker and Redis.

Every screen is photographed at 360×740 in Chinese and English into tests/screenshots/phone/.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from server import db, device
from server.models import Beneficiary, BiometricConsent, Checkin, CheckinChallenge, CheckinMode, CheckinState, Device
from tests.browser.conftest import HOME_FIX
from tests.conftest import beneficiary_body, wait_for
from tests.support.browser import screenshot
from tests.support.cases import open_test_case
from tests.support.phone_clips import CLICK_AT, write_genuine_clip, write_still_clip
from tests.support.photos import photo_bytes

pytestmark = pytest.mark.usefixtures("celery_worker")

# Until the liveness lane serves the colour-light challenge, the test adds the contract's shape to the
# challenge the page receives, so the app's colour phase runs; the server ignores `colour` until then.
# One check-in must upload in under 5 s at 1 Mbit/s.
UPLOAD_BUDGET_BYTES = 5 * 1_000_000 // 8
BRAND = {"zh": "民政认证", "en": "Proof of life"}


def _enrolled_with_code(api, world, serial: int, *photos: str) -> tuple[str, str]:
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], serial)).json()["id"]
    files = [("photos", (name, photo_bytes(name), "image/jpeg")) for name in photos]
    assert supervisor.post(f"/api/v1/beneficiaries/{person}/photos", files=files).status_code == 202
    wait_for(lambda: supervisor.get(f"/api/v1/beneficiaries/{person}/enrolment").json()["state"] == "enrolled")
    return person, supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]


def _screen(page: Page, name: str, timeout: float = 15_000):
    locator = page.locator(f'[data-screen="{name}"]')
    expect(locator).to_be_visible(timeout=timeout)
    return locator


def _tap_start_on_cue(page: Page) -> float:
    """Tap "start" when the camera clip has played CLICK_AT seconds (the clip's actions are timed from it)."""
    page.wait_for_function("() => document.querySelector('#preview')?.currentTime > 0", timeout=15_000)
    return page.evaluate(
        """(at) => new Promise((resolve) => {
            const video = document.querySelector('#preview');
            const tick = () => {
                if (video.currentTime >= at) { document.querySelector('#start').click(); resolve(video.currentTime); }
                else requestAnimationFrame(tick);
            };
            tick();
        })""",
        CLICK_AT,
    )


def _learn_challenge(page: Page, write_clip) -> dict:
    """Intercept the challenge the page asks for and write the camera clip before the page opens the camera."""
    learned: dict = {}

    def handle(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        write_clip(body)
        learned.update(body)
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/checkin-challenges", handle)
    return learned


class Uploads:
    """The check-in uploads a page sends. The first reaches the server but its answer is lost on the way
    back, so the app must send it again with the same client id and get the same check-in."""

    def __init__(self, page: Page, console_errors) -> None:
        self.sizes: list[int] = []
        self.metadata: list[dict] = []
        # Chromium logs the answer dropped here.
        console_errors.expect("ERR_CONNECTION_RESET")
        page.route("**/api/v1/checkins", self._handle)

    def _handle(self, route: Route) -> None:
        response = route.fetch()
        body = route.request.post_data_buffer or b""
        self.sizes.append(len(body))
        head = b'name="metadata"\r\n\r\n'
        start = body.index(head) + len(head)
        self.metadata.append(json.loads(body[start : body.index(b"\r\n--", start)]))
        if len(self.sizes) == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)


def _photograph_while_checking(page: Page, name: str) -> None:
    """Photograph the "checking" screen while the page's first poll for the verdict is held back."""

    def hold_first_poll(route: Route) -> None:
        page.unroute("**/api/v1/checkins/*", hold_first_poll)
        _screen(page, "checking")
        screenshot(page, "phone", name)
        route.continue_()

    page.route("**/api/v1/checkins/*", hold_first_poll)


def _both_languages(page: Page, name: str) -> None:
    """Photograph the screen in the page's language, switch, photograph it in the other, switch back."""
    first = "zh" if page.evaluate("() => document.documentElement.lang") == "zh-CN" else "en"
    second = "en" if first == "zh" else "zh"
    screen = page.locator("[data-screen]").get_attribute("data-screen")
    screenshot(page, "phone", f"{name}-{first}")
    page.click("#lang")
    # Drawn again once the screen's data is back: the header is written with it.
    expect(page.locator("#brand")).to_have_text(BRAND[second])
    _screen(page, screen)
    screenshot(page, "phone", f"{name}-{second}")
    page.click("#lang")
    expect(page.locator("#brand")).to_have_text(BRAND[first])
    _screen(page, screen)


def _record_speech(page: Page) -> None:
    """Keep what the page asks the browser to say (and still say it)."""
    page.add_init_script(
        """window.__spoken = [];
        if (window.speechSynthesis) {
            const speak = speechSynthesis.speak.bind(speechSynthesis);
            speechSynthesis.speak = (u) => { window.__spoken.push({text: u.text, lang: u.lang}); speak(u); };
        }"""
    )


def _checkins(app, person: str) -> list[Checkin]:
    with app.app_context():
        return db.session().scalars(select(Checkin).where(Checkin.beneficiary_id == uuid.UUID(person))).all()


def _run_check_in(page: Page, lang: str, *, restart: bool = False) -> None:
    """From the home screen through the prompts and colours, photographing each screen."""
    _screen(page, "home")
    _both_languages(page, "03-home")
    page.click("#start-checkin")
    _screen(page, "prepare")
    _both_languages(page, "04-prepare")
    page.click("#open-camera")
    _screen(page, "preview")
    expect(page.locator("#hint")).not_to_have_attribute("data-hint", "", timeout=10_000)
    screenshot(page, "phone", f"05-preview-{lang}")
    _tap_start_on_cue(page)
    _screen(page, "prompts")
    screenshot(page, "phone", f"06-hold-{lang}")
    expect(page.locator("#prompt[data-action]")).to_be_visible(timeout=5_000)
    screenshot(page, "phone", f"07-prompt-{lang}")
    if restart:
        # Someone was not ready: start again, from the preview.
        page.click("#restart")
        _screen(page, "preview")
        page.click("#start")
        _screen(page, "prompts")
    expect(page.locator("#colour")).to_be_visible(timeout=20_000)
    screenshot(page, "phone", f"08-colour-{lang}")
    expect(page.locator("#upload-status[data-retry]")).to_be_visible(timeout=20_000)
    screenshot(page, "phone", f"09-upload-retrying-{lang}")


def test_a_genuine_check_in_from_the_activation_link_ends_verified_despite_a_dropped_answer(
    app, api, world, live_url, phone_page, camera_clip, console_errors
):
    person, code = _enrolled_with_code(api, world, 1, "obama.jpg", "obama2.jpg")
    page = phone_page()
    _record_speech(page)
    challenge = _learn_challenge(page, lambda challenge: write_genuine_clip(camera_clip, challenge, "obama.jpg"))
    uploads = Uploads(page, console_errors)
    _photograph_while_checking(page, "10-checking-zh")

    page.goto(f"{live_url}/m/#/activate?code={code}")
    _screen(page, "activate")
    expect(page.locator("#code")).to_have_value(code)
    _both_languages(page, "01-activate-from-link")
    page.click("#next")
    _screen(page, "consent")
    expect(page.locator("#agree")).to_be_visible()
    _both_languages(page, "02-consent")
    page.click("#agree")
    _run_check_in(page, "zh")
    _screen(page, "verified", timeout=90_000)
    _both_languages(page, "11-verified")

    [checkin] = _checkins(app, person)
    assert checkin.state.value == "verified", checkin.reasons
    assert (checkin.gps["lat"], checkin.gps["lon"]) == (HOME_FIX["latitude"], HOME_FIX["longitude"])
    assert checkin.gps["accuracy_m"] == HOME_FIX["accuracy"]
    # Frames as captured, no orientation flag; the colour phase's frames tagged with their colour.
    sent = uploads.metadata
    assert sent[0] == sent[1] and "mirrored" not in sent[0]["device"]
    frames = sent[0]["frames"]
    assert [f["colour"] for f in frames if f["colour"]] == [c for c in challenge["light"]["colours"] for _ in (1, 2)]
    per_action = len(device.ACTION_FRAMES_AT)
    assert [f["action"] for f in frames if f["action"]] == [
        a["action"] for a in challenge["actions"] for _ in range(per_action)
    ]
    size = uploads.sizes[0]
    assert uploads.sizes == [size, size] and size < UPLOAD_BUDGET_BYTES, f"{size} bytes take over 5 s at 1 Mbit/s"
    print(f"\nupload: {size} bytes, {len(frames)} frames, {size * 8 / 1e6:.2f} s at 1 Mbit/s")
    # Each prompt was spoken, in Mandarin.
    spoken = page.evaluate("() => window.__spoken")
    prompts = [s["text"] for s in spoken if s["text"] in {a["prompt_zh"] for a in challenge["actions"]}]
    assert prompts == [a["prompt_zh"] for a in challenge["actions"]]
    assert {s["lang"] for s in spoken} == {"zh-CN"}

    page.click("#done")
    _screen(page, "home")
    expect(page.locator(".msg-ok")).to_be_visible()
    _both_languages(page, "12-home-covered")
    page.click("#to-history")
    _screen(page, "history")
    expect(page.locator(".row-verified")).to_have_count(1)
    _both_languages(page, "13-history")
    page.click("text=返回")
    page.click("#to-notices")
    _screen(page, "notices")
    _both_languages(page, "14-notices-none")


def _suspend(api, app, person: str, *, appeal_upheld: bool = False) -> None:
    """Suspend the person by four eyes; with `appeal_upheld`, record an appeal and suspend again, which upholds."""
    case_id = open_test_case(app, person)
    for round_ in range(2 if appeal_upheld else 1):
        if round_:
            [suspension] = api.as_("supervisor_a").get("/api/v1/suspensions", params={"beneficiary_id": person}).json()
            appeal = f"/api/v1/suspensions/{suspension['id']}/appeal"
            assert api.as_("supervisor_a").post(appeal, json={"reason": "he was away"}).status_code == 200
        proposal = api.as_("supervisor_a").post(
            f"/api/v1/cases/{case_id}/decisions",
            json={"decision": "suspend", "reason": "missed the quarter, not at home", "effective_on": "2026-12-01"},
        )
        assert proposal.status_code == 201, proposal.text
        approve = f"/api/v1/cases/{case_id}/decisions/{proposal.json()['id']}/approve"
        assert api.as_("supervisor_a2").post(approve, json={}).status_code == 200


def test_a_still_photo_is_rejected_and_a_suspended_person_sees_how_to_appeal_in_english(
    app, api, world, live_url, phone_page, camera_clip, console_errors
):
    person, code = _enrolled_with_code(api, world, 2, "obama.jpg", "obama2.jpg")
    _suspend(api, app, person, appeal_upheld=True)
    page = phone_page(locale="en-GB")
    _learn_challenge(page, lambda challenge: write_still_clip(camera_clip, challenge, "obama.jpg"))
    Uploads(page, console_errors)
    _photograph_while_checking(page, "10-checking-en")

    page.goto(f"{live_url}/m/")
    _screen(page, "activate")
    page.click("#lang")
    expect(page.locator("h1")).to_have_text("Set up this phone")
    page.fill("#code", " ".join([code[:4].lower(), code[4:8], code[8:]]))
    screenshot(page, "phone", "01-activate-typed-en")
    page.click("#next")
    _screen(page, "consent")
    page.click("#agree")
    _screen(page, "home")
    expect(page.locator(".msg-error")).to_contain_text("suspended")
    page.click("#to-notices")
    _screen(page, "notices")
    expect(page.locator(".notice h2")).to_have_text(
        ["Decision on your appeal (the suspension stands)", "Notice of suspension"]
    )
    expect(page.locator(".notice").first).to_contain_text("Apply for reconsideration before")
    _both_languages(page, "14-notices-suspension")
    page.click("text=Back")
    # A still photo looks the same whenever it is captured, so starting again keeps the test's timing.
    _run_check_in(page, "en", restart=True)
    _screen(page, "rejected", timeout=90_000)
    expect(page.locator(".msg-due")).to_contain_text("Tip:")
    _both_languages(page, "11-rejected")

    [checkin] = _checkins(app, person)
    assert checkin.state.value == "rejected"
    page.click("#done")
    page.click("#to-history")
    _screen(page, "history")
    expect(page.locator(".row-rejected")).to_have_count(1)


def test_in_direct_sun_the_app_asks_for_shade_and_an_unmeasurable_light_goes_to_a_person(
    app, api, world, live_url, phone_page, camera_clip
):
    person, code = _enrolled_with_code(api, world, 4, "obama.jpg", "obama2.jpg")
    page = phone_page()
    _learn_challenge(page, lambda challenge: write_genuine_clip(camera_clip, challenge, "obama.jpg", in_sun=True))
    page.goto(f"{live_url}/m/#/activate?code={code}")
    page.click("#next")
    page.click("#agree")
    _screen(page, "home")
    page.click("#start-checkin")
    page.click("#open-camera")
    _screen(page, "preview")
    # Before anything is captured, the picture check asks the person to move out of the sun.
    expect(page.locator("#hint")).to_have_attribute("data-hint", "bright", timeout=10_000)
    expect(page.locator("#hint")).to_contain_text("阴凉处")
    screenshot(page, "phone", "05-preview-sun-zh")
    # They stay where they are: the screen's colours cannot be seen on the face, so a person decides.
    _tap_start_on_cue(page)
    _screen(page, "prompts")
    _screen(page, "review", timeout=120_000)
    expect(page.locator("h1")).to_have_text("已交给工作人员")
    _both_languages(page, "11-review")

    [checkin] = _checkins(app, person)
    assert checkin.state == CheckinState.REVIEW
    assert "light_unmeasurable" in checkin.reasons, checkin.reasons
    page.click("#done")
    page.click("#to-history")
    expect(page.locator(".row-review")).to_have_count(1)
    # The same advice in English (the camera screen has no language switch: it is made on the home screen).
    page.click("text=返回")
    _screen(page, "home")
    page.click("#lang")
    expect(page.locator("#brand")).to_have_text(BRAND["en"])
    page.click("#start-checkin")
    page.click("#open-camera")
    expect(page.locator("#hint")).to_have_attribute("data-hint", "bright", timeout=10_000)
    expect(page.locator("#hint")).to_contain_text("shade")
    screenshot(page, "phone", "05-preview-sun-en")


def test_the_shell_opens_offline_and_consent_refused_leaves_no_token_and_no_way_to_check_in(
    app, api, world, live_url, phone_page
):
    person, code = _enrolled_with_code(api, world, 3, "obama.jpg")
    page = phone_page()
    page.goto(f"{live_url}/m/")
    # The service worker keeps the shell: the app opens with the network gone.
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    page.reload()
    _screen(page, "activate")
    page.context.set_offline(False)
    page.goto(f"{live_url}/m/#/activate?code={code}")
    page.click("#next")
    _screen(page, "consent")
    page.click("#refuse")
    _screen(page, "refused")
    _both_languages(page, "15-consent-refused")

    assert page.evaluate("() => localStorage.getItem('fc.token')") is None
    page.goto(f"{live_url}/m/#/prepare")
    _screen(page, "activate")
    with app.app_context():
        [device] = db.session().scalars(select(Device).where(Device.beneficiary_id == uuid.UUID(person))).all()
        assert device.activated_at is None
        assert db.session().scalars(select(BiometricConsent)).all() == []
    assert _checkins(app, person) == []


def _failed_recently(app, person: str, times: int) -> None:
    """Rejected check-ins of this person's phone just now, as the worker leaves them (test setup)."""
    with app.app_context():
        session = db.session()
        device = session.scalars(select(Device).where(Device.beneficiary_id == uuid.UUID(person))).one()
        now = datetime.now(UTC)
        for _ in range(times):
            challenge = CheckinChallenge(
                beneficiary_id=device.beneficiary_id,
                device_id=device.id,
                mode=CheckinMode.SELF,
                nonce=uuid.uuid4().hex,
                actions=["blink", "nod"],
                issued_at=now,
                expires_at=now,
                used_at=now,
            )
            session.add(challenge)
            session.flush()
            session.add(
                Checkin(
                    beneficiary_id=device.beneficiary_id,
                    challenge_id=challenge.id,
                    client_id=uuid.uuid4().hex,
                    mode=CheckinMode.SELF,
                    device_id=device.id,
                    region_code=session.get(Beneficiary, device.beneficiary_id).village_code,
                    device_info={},
                    state=CheckinState.REJECTED,
                    reasons=["action_not_seen"],
                    decided_at=now,
                )
            )
        session.commit()


def test_after_five_failures_the_phone_says_until_when_it_is_locked(app, api, world, live_url, phone_page):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 4)).json()["id"]
    code = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    page = phone_page()
    page.goto(f"{live_url}/m/#/activate?code={code}")
    page.click("#next")
    page.click("#agree")
    _screen(page, "home")
    _failed_recently(app, person, 5)
    page.reload()
    _screen(page, "home")
    expect(page.locator(".msg-error")).to_contain_text("以后再试")
    expect(page.locator("#start-checkin")).to_be_disabled()
    _both_languages(page, "16-locked")


def test_my_data_lists_what_is_held_and_withdrawing_consent_asks_first_then_stops_check_ins(
    app, api, world, live_url, phone_page
):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 9)).json()["id"]
    code = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    page = phone_page()
    page.goto(f"{live_url}/m/#/activate?code={code}")
    page.click("#next")
    _screen(page, "consent")
    page.click("#agree")
    _screen(page, "home")
    page.click("#to-mydata")
    mine = _screen(page, "mydata")
    expect(mine.locator(".mydata")).to_have_count(4)
    expect(mine).to_contain_text("已同意")
    _both_languages(page, "20-my-data")

    page.click("#withdraw")
    _screen(page, "withdraw")
    _both_languages(page, "21-withdraw-confirm")
    page.click("#withdraw-cancel")
    _screen(page, "mydata")
    with app.app_context():
        assert db.session().scalars(select(BiometricConsent.withdrawn_at)).all() == [None]

    page.click("#withdraw")
    page.click("#withdraw-confirm")
    withdrawn = _screen(page, "mydata")
    expect(withdrawn.locator("#withdraw")).to_have_count(0)
    expect(withdrawn.locator(".msg-error")).to_contain_text("撤回")
    _both_languages(page, "22-consent-withdrawn")
    page.click("#back")
    home = _screen(page, "home")
    expect(home.locator("#start-checkin")).to_have_count(0)
    expect(home.locator(".msg-error")).to_contain_text("不能再自助认证")
    with app.app_context():
        [when] = db.session().scalars(select(BiometricConsent.withdrawn_at)).all()
        assert when is not None


def _held(page: Page, pattern: str) -> list[Route]:
    """Requests to `pattern` from now on reach nothing and are never answered (a signal that carries nothing)."""
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(pattern, hold)
    return held


def _eventually(page: Page, check: Callable[[], bool], what: str) -> None:
    """Wait until check() holds. Playwright's own wait, not time.sleep: the route handlers run only while the test
    is inside a Playwright call, and it waits in real time however the page's clock has been moved."""
    for _ in range(200):
        if check():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never happened: {what}")


def test_an_answer_that_never_comes_is_given_up_after_30_s_and_an_upload_is_given_time_for_its_bytes(
    api, world, live_url, phone_page
):
    supervisor = api.as_("supervisor_a")
    person = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 5)).json()["id"]
    code = supervisor.post(f"/api/v1/beneficiaries/{person}/devices", json={}).json()["activation_code"]
    page = phone_page()
    # The page's timers run on a clock the test can move on: 30 s pass in an instant.
    page.clock.install()
    page.goto(f"{live_url}/m/#/activate?code={code}")
    page.click("#next")
    page.click("#agree")
    _screen(page, "home")

    held = _held(page, "**/api/v1/me/home")
    page.reload()
    _eventually(page, lambda: len(held) == 1, "the home screen asked for its data")
    page.clock.fast_forward(29_000)
    _screen(page, "loading")
    page.clock.fast_forward(2_000)
    expect(_screen(page, "home").locator(".msg-error")).to_have_text("连不上网络。请到信号好的地方再试。")
    screenshot(page, "phone", "17-no-answer-zh")
    # Switched to English, the screen asks again, and again hears nothing.
    page.click("#lang")
    _eventually(page, lambda: len(held) == 2, "the home screen asked again")
    page.clock.fast_forward(31_000)
    expect(_screen(page, "home").locator(".msg-error")).to_have_text(
        "No network. Go where the signal is better and try again."
    )
    screenshot(page, "phone", "17-no-answer-en")
    page.unroute("**/api/v1/me/home")
    page.click("button:has-text('Try again')")
    expect(page.locator("#start-checkin")).to_be_visible()
    page.click("#lang")
    expect(page.locator("#brand")).to_have_text(BRAND["zh"])

    # An upload of 400 kB is given 100 s on top (32 kbit/s): a slow line that is still sending is not cut off.
    held = _held(page, "**/api/v1/checkins")
    page.evaluate(
        """async () => {
            const api = await import("/m/api.js");
            const form = new FormData();
            form.append("frames", new Blob([new Uint8Array(400000)], { type: "image/jpeg" }), "0.jpg");
            window.__upload = "waiting";
            api.submitCheckin(form).then(() => { window.__upload = "answered"; },
                                         (error) => { window.__upload = error.constructor.name; });
        }"""
    )
    _eventually(page, lambda: len(held) == 1, "the upload was sent")
    page.clock.fast_forward(129_000)
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__upload") == "waiting"
    page.clock.fast_forward(2_000)
    _eventually(page, lambda: page.evaluate("() => window.__upload") != "waiting", "the upload was given up")
    assert page.evaluate("() => window.__upload") == "NetworkError"
