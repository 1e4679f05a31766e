"""The player in a real headless Chromium: two cameras of one grant play side by side
on one wall clock (the clock shown advances in the console's time zone, both videos'
currentTime advance and stay together), a camera's gap dims its tile while the other
plays on, a frame step moves by one frame (1/25 s), and the snapshot shows a still
whose leaf names the custodian."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from oversight.services import access
from tests.actors import admin
from tests.e2e.conftest import browser  # noqa: F401 - the fixture
from tests.web.conftest import PW, LiveServer, Web
from tests.web.footage_helpers import T0, access_leaves
from tests.web.player_helpers import grant_over, seal_at

pytestmark = [
    pytest.mark.browser,
    pytest.mark.ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: the browser runs once
]

TIMES = "[...document.querySelectorAll('video.player-video')].map(v => v.currentTime)"
CLOCK = "Number(document.getElementById('player-clock').dataset.ms)"


def _open(page: Page, base: str, web: Web, grant: int) -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("input[name=user]", "cust")
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    expect(page.locator("header .user")).to_contain_text("(cust)")
    request_id = access.get_grant(web.system, admin(web.system), grant)[0].request_id
    page.goto(f"{base}/access/{request_id}")
    page.locator("#witness-user").fill("wit")
    page.locator("#witness-password").fill(PW)
    page.locator("#witness-button").click()
    expect(page.locator("#execution-open")).to_be_visible()
    page.goto(f"{base}/play/{grant}")


def _until(page: Page, script: str, ok: Any, seconds: float = 40) -> Any:
    # Polled from here: wait_for_function evaluates a string, which the CSP refuses.
    deadline = time.monotonic() + seconds
    value = page.evaluate(script)
    while not ok(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = page.evaluate(script)
    return value


def test_two_cameras_play_in_sync_on_the_wall_clock_and_step_by_frames(
    web: Web,
    live_server: LiveServer,
    browser: Browser,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    seal_at(web, tmp_path, "cam1", [0, 2, 6, 8])  # a gap from 4 s to 6 s
    seal_at(web, tmp_path, "cam2", [0, 2, 4, 6, 8])
    grant = grant_over(web, ["cam1", "cam2"], T0, T0 + timedelta(seconds=10))
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        _open(page, live_server.url, web, grant)
        status = lambda: page.locator("#player-status").inner_text()  # noqa: E731

        # Both play, together: their media times advance and stay within the drift bound.
        times = _until(page, TIMES, lambda t: min(t) > 1.0)
        assert len(times) == 2 and min(times) > 1.0, f"did not play: {times} {status()}"
        for _ in range(5):
            a, b = page.evaluate(TIMES)
            assert abs(a - b) < 0.35, (a, b)
            time.sleep(0.2)
        later = page.evaluate(TIMES)
        assert all(x > y for x, y in zip(later, times, strict=True)), (times, later)

        # The clock shows the wall-clock time of the frame played, in the pack's zone.
        first_ms = page.evaluate(CLOCK)
        text = page.locator("#player-clock").inner_text()
        shown = datetime.fromtimestamp(first_ms / 1000, tz=web.system.packs.timezone)
        assert text == shown.strftime("%Y-%m-%d %H:%M:%S.") + f"{first_ms % 1000:03d}"
        assert T0 <= shown <= T0 + timedelta(seconds=10)
        media = page.evaluate(TIMES)[1]
        assert abs((shown - T0).total_seconds() - media) < 0.35  # cam2 has no gap: media = wall
        assert _until(page, CLOCK, lambda ms: ms > first_ms + 500) > first_ms + 500

        # Through cam1's gap (4-6 s) its tile is dimmed while cam2 plays on.
        _until(page, CLOCK, lambda ms: ms > first_ms + 10_000 or _in_gap(page), 20)
        assert _in_gap(page), f"cam1's gap was not shown: {page.evaluate(CLOCK)} {status()}"
        gap_clock = (page.evaluate(CLOCK) - T0.timestamp() * 1000) / 1000
        assert 4.0 <= gap_clock <= 6.2, gap_clock
        cam2 = page.evaluate(TIMES)[1]
        time.sleep(0.5)
        assert page.evaluate(TIMES)[1] > cam2 + 0.2  # cam2 plays on through cam1's gap
        # cam1 resumes after its gap, in step with cam2 again.
        _until(page, CLOCK, lambda ms: (ms - T0.timestamp() * 1000) / 1000 > 7.0, 20)
        time.sleep(0.5)
        a, b = page.evaluate(TIMES)
        assert abs((a + 2.0) - b) < 0.35, (a, b)  # cam1's media time lacks the 2 s gap

        # Paused, "." steps one frame forward and "," one back (25 fps: 0.04 s).
        page.locator("#player-toggle").click()
        time.sleep(0.5)
        before = page.evaluate(TIMES)
        clock_before = page.evaluate(CLOCK)
        page.keyboard.press(".")
        time.sleep(0.3)
        after = page.evaluate(TIMES)
        for x, y in zip(before, after, strict=True):
            assert 0.03 <= y - x <= 0.05, (before, after)
        assert 30 <= page.evaluate(CLOCK) - clock_before <= 50
        page.locator("#player-back").click()
        page.locator("#player-back").click()
        time.sleep(0.3)
        back = page.evaluate(TIMES)
        for x, y in zip(after, back, strict=True):
            assert 0.07 <= x - y <= 0.09, (after, back)

        # The snapshot of the instant shown: a still on the page, a leaf naming the custodian.
        leaves = len(access_leaves(web))
        page.locator(".snapshot-button[data-camera=cam2]").click()
        expect(page.locator("#snapshot-img")).to_be_visible(timeout=20_000)
        assert page.evaluate("document.getElementById('snapshot-img').naturalWidth") == 160
        snaps = [x for x in access_leaves(web)[leaves:] if x["action"] == "view.snapshot"]
        assert len(snaps) == 1 and snaps[0]["actors"] == ["cust", "wit"]
        instant = datetime.fromisoformat(snaps[0]["details"]["instant"])
        assert abs(instant.timestamp() * 1000 - page.evaluate(CLOCK)) < 1.5
    finally:
        context.close()


def _in_gap(page: Page) -> bool:
    found: bool = page.evaluate(
        "document.querySelector('figure[data-camera=cam1]').classList.contains('in-gap')"
    )
    return found
