"""The console in a real headless Chromium against a real uvicorn server on 127.0.0.1:
what a newcomer does, page by page, with a screenshot of each."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from oversight.evidence.verify import verify_package
from oversight.services import recording
from oversight.sim.cameras import EncoderSpec, SimulatedCameraSet
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.e2e.conftest import Shots
from tests.recorder.helpers import needs_ffmpeg, supervising
from tests.services.test_people import leaves_of
from tests.web.conftest import PW, LiveServer, Web

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: the browser runs once
]


def open_form(page: Page, selector: str) -> Locator:
    """The form, its folded <details> opened as a person would click it open."""
    form = page.locator(selector)
    form.evaluate("f => { const d = f.closest('details'); if (d) d.open = true; }")
    return form


def log_in(page: Page, base: str, user: str, password: str = PW) -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("header .user")).to_contain_text(f"({user})")


def test_log_in_see_the_dashboard_switch_language_and_log_out(
    browser: Browser, live_server: LiveServer, shots: Shots
) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2F")
    shots.take(page, "login")
    page.fill("input[name=user]", "op")
    page.fill("input[name=password]", "wrong password!!")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("wrong user id or password")
    log_in(page, live_server.url, "op")
    expect(page.locator("h1")).to_have_text("Dashboard")
    shots.take(page, "dashboard-en")
    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("总览")
    shots.take(page, "dashboard-zh")
    page.click("header button.link")
    expect(page).to_have_url(f"{live_server.url}/login")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2F")
    # Only the refused login answered with an error status; no CSP violation, no missing
    # file (the favicon included).
    assert [e for e in errors if "status of 401" not in e] == [], errors
    assert len(errors) == 1, errors
    context.close()


POLICE_DOCS = ("work_id", "identity_document", "unit_letter", "own_agency_head")


def _local_input(web: Web, moment: datetime) -> str:
    """A datetime-local field's value: the deployment's time zone, whole seconds."""
    local = moment.astimezone(web.system.packs.timezone)
    return local.strftime("%Y-%m-%dT%H:%M:%S")


@contextmanager
def cameras_off_the_main_thread() -> Iterator[tuple[RelayThread, SimulatedCameraSet]]:
    """An RTSP relay and an H.264 and an H.265 camera. Started and stopped in a thread
    of their own: Playwright's sync API runs an event loop on the main thread, and the
    relay may not start its loop where another one runs."""
    stack = ExitStack()

    def start() -> tuple[RelayThread, SimulatedCameraSet]:
        relay = stack.enter_context(RelayThread())
        specs = [EncoderSpec(320, 180, 15, "h264"), EncoderSpec(320, 180, 15, "h265")]
        cams = stack.enter_context(SimulatedCameraSet(2, relay=relay, encoders=specs))
        return relay, cams

    with ThreadPoolExecutor(1) as pool:
        started = pool.submit(start).result()
        try:
            yield started
        finally:
            pool.submit(stack.close).result()


def _record(web: Web, relay: RelayThread, urls: list[str], seconds: float) -> None:
    with supervising(web.system, segment_seconds=2):
        deadline = time.monotonic() + seconds + 30
        while time.monotonic() < deadline:
            found = recording.list_segments(web.system, HOST)
            if {s.camera for s in found} == {"gate-1", "hall-1"} and len(found) >= 2 * seconds / 2:
                break
            time.sleep(0.5)
    assert {s.camera for s in recording.list_segments(web.system, HOST)} == {"gate-1", "hall-1"}


@pytest.mark.ffmpeg
@pytest.mark.slow
@needs_ffmpeg
def test_a_newcomer_registers_requests_approves_executes_plays_and_exports(
    browser: Browser, live_server: LiveServer, web: Web, shots: Shots, tmp_path: Path
) -> None:
    base = live_server.url
    with cameras_off_the_main_thread() as (relay, cams):
        # 1. An operator registers a site and two cameras; a toilet camera is refused.
        op = browser.new_context(locale="en-GB").new_page()
        log_in(op, base, "op")
        op.goto(f"{base}/registry")
        form = open_form(op, "#add-org-form")
        form.locator("input[name=org_id]").fill("school")
        form.locator("input[name=name]").fill("No. 1 Middle School")
        form.locator("select[name=kind]").select_option("owner")
        form.locator("button[type=submit]").click()
        form = open_form(op, "#add-site-form")
        form.locator("input[name=site_id]").fill("school-1")
        form.locator("input[name=name]").fill("No. 1 Middle School")
        form.locator("select[name=category]").select_option("school")
        form.locator("button[type=submit]").click()
        for camera, url in zip(("gate-1", "hall-1"), cams.urls, strict=True):
            form = open_form(op, "#add-camera-form")
            form.locator("input[name=camera_id]").fill(camera)
            form.locator("select[name=coverage]").select_option("entrance")
            form.locator("input[name=stream_url]").fill(url)
            form.locator("button[type=submit]").click()
            expect(op.locator(f"#camera-{camera}")).to_be_visible()
        shots.take(op, "registry")
        form = open_form(op, "#add-camera-form")
        form.locator("input[name=camera_id]").fill("wc-1")
        form.locator("select[name=placement]").select_option("public_toilet")
        form.locator("input[name=stream_url]").fill("rtsp://127.0.0.1:9/wc")
        form.locator("button[type=submit]").click()
        expect(op.locator("[role=alert]")).to_contain_text("prohibited")
        expect(op.locator(".article")).to_have_text("Art. 8(2)")
        shots.take(op, "registry-refused-placement")

        # 2. The recorder seals real footage from the simulated RTSP cameras.
        _record(web, relay, cams.urls, seconds=8)
    segments = recording.list_segments(web.system, HOST, camera="gate-1")
    start, end = segments[0].start, segments[-1].end

    # 3. A police requester asks for a copy, with the documents the pack requires.
    cop = browser.new_context(locale="en-GB").new_page()
    log_in(cop, base, "cop")
    cop.goto(f"{base}/access/new")
    form = cop.locator("#request-form")
    form.locator("#request-kind").select_option("copy")
    for camera in ("gate-1", "hall-1"):
        form.locator(f"input[name=cameras][value={camera}]").check()
    form.locator("#request-start").fill(_local_input(web, start - timedelta(seconds=1)))
    form.locator("#request-end").fill(_local_input(web, end + timedelta(seconds=1)))
    form.locator("input[name=requester_name]").fill("Officer Chen")
    form.locator("input[name=work_id]").fill("PS-1234")
    form.locator("input[name=id_doc]").fill("COP00001")
    form.locator("input[name=organisation]").fill("County Police")
    form.locator("select[name=org_class]").select_option("police")
    form.locator("textarea[name=purpose]").fill("theft investigation 2026-17")
    form.locator("input[name=destination]").fill("County Police evidence room")
    for kind in POLICE_DOCS:
        form.locator(f"#doc-{kind}").set_input_files(
            {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": b"%PDF scan"}
        )
    shots.take(cop, "access-request-form")
    form.locator("#request-submit").click()
    expect(cop.locator("#request-status")).to_be_visible()
    request_url = cop.url
    shots.take(cop, "access-request-pending")

    # 4. A custodian who is not the requester approves it.
    appr = browser.new_context(locale="en-GB").new_page()
    log_in(appr, base, "appr")
    appr.goto(request_url)
    appr.locator("#approve-button").click()
    expect(appr.locator("#grant-detail")).to_be_visible()
    shots.take(appr, "access-approved")

    # 5. Another custodian executes it with a witness signing in on the same screen.
    cust = browser.new_context(locale="en-GB", accept_downloads=True).new_page()
    log_in(cust, base, "cust")
    cust.goto(request_url)
    cust.locator("#witness-user").fill("wit")
    cust.locator("#witness-password").fill("wrong password!!")
    cust.locator("#witness-button").click()
    expect(cust.locator("#witness-error")).to_be_visible()
    cust.locator("#witness-user").fill("wit")
    cust.locator("#witness-password").fill(PW)
    cust.locator("#witness-button").click()
    expect(cust.locator("#execution-open")).to_be_visible()
    shots.take(cust, "access-executing")

    # 6. Playback in the page: the video advances, and every segment fetched left an
    #    access leaf before its bytes were sent.
    fetched: list[str] = []
    cust.on(
        "response",
        lambda r: fetched.append(r.url) if "/seg/" in r.url and r.status == 200 else None,
    )
    before = len(leaves_of(web.system, "access"))
    cust.locator("#play-gate-1").click()
    # Polled from here: wait_for_function evaluates a string in the page, which the
    # console's CSP (no unsafe-eval) rightly refuses.
    played = 0.0
    deadline = time.monotonic() + 30
    while played <= 1.5 and time.monotonic() < deadline:
        time.sleep(0.25)
        played = cust.evaluate("document.getElementById('player').currentTime")
    assert played > 1.5, f"the video did not play: {cust.locator('#player-status').inner_text()}"
    cust.evaluate("document.getElementById('player').pause()")
    time.sleep(0.5)
    shots.take(cust, "playback-h264")
    new_leaves = leaves_of(web.system, "access")[before:]
    assert fetched, "the player fetched no segment"
    keys = {seg.id: seg.storage_key for seg in segments}
    released = [leaf["details"]["segments"] for leaf in new_leaves]  # type: ignore[index]
    for url in fetched:
        segment_id = int(url.split("/seg/")[1].split("/")[0])
        assert [keys[segment_id]] in released, f"{url} was served without its access leaf"
    assert len(new_leaves) >= len(fetched)

    # H.265 cannot be decoded by this Chromium: the page says so and offers the export.
    cust.goto(request_url)
    cust.locator("#play-hall-1").click()
    expect(cust.locator("#not-playable")).to_be_visible()
    shots.take(cust, "playback-h265-not-playable")

    # 7. The evidence package downloads and verifies offline.
    cust.goto(request_url)
    with cust.expect_download() as download:
        cust.locator("#export-button").click()
    archive = tmp_path / "evidence.zip"
    download.value.save_as(archive)
    unpacked = tmp_path / "evidence"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unpacked)
    [package] = [p for p in unpacked.rglob("manifest.json")]
    verify_package(package.parent)

    # 8. Every other page renders for the admin, each with a screenshot.
    boss = browser.new_context(locale="en-GB").new_page()
    log_in(boss, base, "boss")
    for path in (
        "/", "/registry", "/filing", "/recordings", "/recordings/gate-1", "/retention",
        "/access", "/audit", "/compliance", "/ledger", "/people", "/api/docs",
    ):  # fmt: skip
        reply = boss.goto(f"{base}{path}")
        assert reply is not None and reply.status == 200, path
        shots.take(boss, f"page{path.replace('/', '-') or '-home'}")
    assert len(shots.taken) >= 20
