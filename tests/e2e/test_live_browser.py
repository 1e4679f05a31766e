"""The live wall in a real headless Chromium (issue 22, item 1): four simulated cameras
over real RTSP, the real recorder writing their live windows from the recording ffmpeg,
the real server on 127.0.0.1. A 4-tile grid plays (every tile's currentTime advances)
and its sessions are view.live leaves naming the operator, ended when the page goes; a
person without the role, or out of scope, gets nothing and a refused leaf."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from oversight.services import recording
from oversight.sim.cameras import SimulatedCameraSet
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.e2e.conftest import Shots
from tests.e2e.test_console_browser import log_in
from tests.recorder.helpers import add_camera, needs_ffmpeg, supervising, wait_for
from tests.services.test_people import leaves_of
from tests.web.authz_helpers import add_person, add_site
from tests.web.conftest import LiveServer, Web

pytestmark = [
    pytest.mark.browser,
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: the browser runs once
]

CAMERAS = ("cam1", "cam2", "cam3", "cam4")


@contextmanager
def four_cameras() -> Iterator[list[str]]:
    """An RTSP relay and four H.264 cameras (two shared encoders), started and stopped
    off the main thread, where Playwright's event loop runs."""
    stack = ExitStack()

    def start() -> list[str]:
        relay = stack.enter_context(RelayThread())
        cams = stack.enter_context(
            SimulatedCameraSet(4, relay=relay, encoders=2, width=320, height=180)
        )
        return list(cams.urls)

    with ThreadPoolExecutor(1) as pool:
        urls = pool.submit(start).result()
        try:
            yield urls
        finally:
            pool.submit(stack.close).result()


def live_leaves(web: Web) -> list[dict[str, Any]]:
    return [x for x in leaves_of(web.system, "access") if str(x["action"]).startswith("view.live")]


def times(page: Page) -> list[float]:
    return list(page.evaluate("() => window.oversightLive.map(t => t.video.currentTime)"))


def test_a_four_tile_live_wall_plays_and_every_session_is_a_leaf(
    browser: Browser, live_server: LiveServer, web: Web, shots: Shots
) -> None:
    base = live_server.url
    with four_cameras() as urls:
        for camera, url in zip(CAMERAS, urls, strict=True):
            add_camera(web.system, camera, url)
        with supervising(web.system, segment_seconds=4):
            live_root = web.system.settings.live_root
            wait_for(
                "four live windows",
                lambda: all((live_root / c / "live.m3u8").exists() for c in CAMERAS),
                timeout=60,
            )
            context = browser.new_context(locale="en-GB")
            page = context.new_page()
            log_in(page, base, "op")
            page.goto(f"{base}/live?tiles=4&" + "&".join(f"cam={c}" for c in CAMERAS))
            expect(page.locator("h1")).to_have_text("Live view")
            expect(page.locator(".tile video")).to_have_count(4)
            page.wait_for_function(
                "() => window.oversightLive && window.oversightLive.length === 4"
                " && window.oversightLive.every(t => t.video.currentTime > 0.5)",
                timeout=45_000,
            )
            first = times(page)
            time.sleep(3)
            later = times(page)
            assert all(b > a for a, b in zip(first, later, strict=True)), (first, later)
            shots.take(page, "live-wall-4")
            opened = [x for x in live_leaves(web) if x["action"] == "view.live"]
            assert sorted(x["target"] for x in opened) == list(CAMERAS)
            assert all(x["actors"] == ["op"] for x in opened)
            # Keyboard: the tiles are reachable by Tab.
            page.locator(".tile").first.focus()
            assert page.evaluate("() => document.activeElement.dataset.camera") == "cam1"
            # Leaving the page ends every session: a view.live.end leaf each.
            page.goto(f"{base}/")
            wait_for(
                "four end leaves",
                lambda: len([x for x in live_leaves(web) if x["action"] == "view.live.end"]) == 4,
                timeout=15,
            )
            context.close()
        ended = [x for x in live_leaves(web) if x["action"] == "view.live.end"]
        assert len({x["details"]["session"] for x in ended}) == 4  # each its own session
        assert sorted(x["target"] for x in ended) == list(CAMERAS)
        assert all(x["details"]["end"] >= x["details"]["start"] for x in ended)
        assert all(x["details"]["reason"] == "left" for x in ended)
    # Recording went on as before: sealed segments of every camera, none from the window.
    found = recording.list_segments(web.system, HOST)
    assert {s.camera for s in found} == set(CAMERAS)


def test_no_role_or_out_of_scope_gets_nothing_and_a_refused_leaf(
    browser: Browser, live_server: LiveServer, web: Web
) -> None:
    base = live_server.url
    add_camera(web.system, "cam1", "rtsp://127.0.0.1:9/cam1")
    add_site(web, "s3")
    add_person(web, "op3", "OPER0003", "operator", ["s3"])
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    log_in(page, base, "aud")  # an auditor: no live role
    reply = page.goto(f"{base}/live")
    assert reply is not None and reply.status == 403
    [refused] = live_leaves(web)
    assert refused["action"] == "view.live.refused" and refused["actors"] == ["aud"]
    context.close()

    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    log_in(page, base, "op3")  # an operator of site s3: cam1 is at s1
    page.goto(f"{base}/live?tiles=1&cam=cam1")
    expect(page.locator(".tile-status")).to_contain_text("Refused")
    expect(page.locator("#wall-none")).to_be_visible()  # nothing in scope to choose
    assert page.evaluate("() => window.oversightLive[0].refused") == 403
    assert page.evaluate("() => window.oversightLive[0].session") is None
    refused = live_leaves(web)[-1]
    assert refused["action"] == "view.live.refused" and refused["actors"] == ["op3"]
    assert refused["target"] == "camera:cam1"
    assert [x for x in live_leaves(web) if x["action"] == "view.live"] == []
    context.close()
