"""Issue 22's test in a real headless Chromium: the alarm banner appears within 5 s of a
simulated camera dropping. Real RTSP cameras (the simulator), the real health monitor
raising the alarm, the real server pushing it by server-sent events; then the operator
acknowledges from the banner, and the sound toggle is remembered by the browser."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, expect

from oversight.health.monitor import Monitor, MonitorOptions
from tests.e2e.conftest import browser  # noqa: F401 - the fixture
from tests.e2e.test_health_monitor import cameras, monitoring, open_kinds, wait_for
from tests.recorder.helpers import add_camera, needs_ffmpeg
from tests.web.conftest import PW, LiveServer, Web

pytestmark = [
    pytest.mark.browser,
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: a real-time test runs once
]
WITHIN_S = 5.0


def test_the_banner_shows_a_dropped_camera_within_5_s_and_acknowledges_it(
    web: Web,
    live_server: LiveServer,
    browser: Browser,  # noqa: F811 - the fixture imported above
) -> None:
    with cameras() as cams:
        for i, url in enumerate(cams.urls, start=1):
            add_camera(web.system, f"cam{i}", url)
        monitor = Monitor(
            web.system, MonitorOptions(offline_after=1.5, learn_frames=3, registry_poll=1.0)
        )
        context = browser.new_context(locale="en-GB")
        try:
            with monitoring(monitor):
                wait_for(
                    "both streams watched",
                    lambda: (
                        len(monitor.watches) == 2
                        and all(w.last_frame_at is not None for w in monitor.watches.values())
                    ),
                    timeout=60,
                )
                page = context.new_page()
                page.goto(f"{live_server.url}/login?lang=en")
                page.fill("input[name=user]", "op")
                page.fill("input[name=password]", PW)
                page.click("button[type=submit]")
                expect(page.locator("header .user")).to_contain_text("(op)")
                page.goto(f"{live_server.url}/recordings?lang=en")
                banner = page.locator("#alarm-banner")
                expect(banner).to_have_attribute("data-count", "0")  # the stream is open

                dropped = time.monotonic()
                cams[1].kill()  # the relay drops cam2
                left = WITHIN_S - (time.monotonic() - dropped)
                expect(banner).to_have_attribute("data-count", "1", timeout=left * 1000)
                took = time.monotonic() - dropped
                assert took <= WITHIN_S, f"the banner took {took:.1f} s"
                expect(page.locator("#alarm-newest")).to_contain_text("cam2 offline")
                assert "offline" in open_kinds(web, "cam2")

                # Acknowledge from the banner: back on the same page, the button gone.
                expect(page.locator("#alarm-ack-button")).to_be_visible()
                page.click("#alarm-ack-button")
                page.wait_for_url("**/recordings")
                expect(page.locator("#alarm-ack")).to_be_hidden(timeout=5000)
                expect(banner).to_have_attribute("data-count", "1")  # acknowledged, still open

                # Sound is off by default; turned on, it stays on across pages.
                sound = page.locator("#alarm-sound")
                expect(sound).to_have_attribute("aria-pressed", "false")
                sound.click()
                page.goto(f"{live_server.url}/health?lang=en")
                expect(page.locator("#alarm-sound")).to_have_attribute("aria-pressed", "true")
        finally:
            context.close()
