"""Finding 2 in a real headless Chromium: a segment cut at keyframes inward to the grant
(its fragments keep their own times, 2.2 s into the segment and on) plays in the page
with hls.js, and the player fetches nothing but that cut."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from oversight.services import access
from tests.actors import admin
from tests.e2e.conftest import browser  # noqa: F401 - the fixture
from tests.web.conftest import PW, LiveServer, Web
from tests.web.footage_helpers import T0
from tests.web.test_hardening_playback import _grant, _seal

pytestmark = [
    pytest.mark.browser,
    pytest.mark.ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: the browser runs once
]


def test_a_cut_segment_plays_in_the_browser(
    web: Web,
    live_server: LiveServer,
    browser: Browser,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    [segment] = _seal(web, tmp_path)
    start, end = T0 + timedelta(seconds=2.1), T0 + timedelta(seconds=6.1)
    grant = _grant(web, start, end)
    base = live_server.url
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
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

        sizes: list[int] = []
        page.on(
            "response",
            lambda r: sizes.append(len(r.body())) if r.url.endswith(".m4s") else None,
        )
        page.goto(f"{base}/play/{grant}?camera=cam1")
        played = 0.0
        deadline = time.monotonic() + 40
        while played <= 1.5 and time.monotonic() < deadline:
            time.sleep(0.25)
            played = page.evaluate("document.getElementById('player').currentTime")
        status = page.locator("#player-status").inner_text()
        assert played > 1.5, f"the cut segment did not play: {status}"
        stored = Path(web.system.store.path(segment.storage_key)).stat().st_size
        assert sizes and all(size < stored // 2 for size in sizes)
    finally:
        context.close()
