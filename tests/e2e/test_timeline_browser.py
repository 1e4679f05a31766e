"""Issue 22's timeline test in a real headless Chromium: dragging across a camera's
timeline picks that range and offers the request form prefilled with exactly it
(``/access/new?camera=&start=&end=``); following the link opens the form. A person
holding a grant covering the range is offered play too; wheel and keys change the
window; hovering shows the time and the band there."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from oversight.web.timeline_window import iso
from tests.e2e.conftest import browser  # noqa: F401 - the fixture
from tests.recorder.helpers import needs_ffmpeg
from tests.web.conftest import PW, LiveServer, Web
from tests.web.footage_helpers import T0, approved_grant, seal

pytestmark = [
    pytest.mark.browser,
    pytest.mark.ffmpeg,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: one real browser run
]


def _login(page: Page, url: str, user: str) -> None:
    page.goto(f"{url}/login?lang=en")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    expect(page.locator("header .user")).to_contain_text(f"({user})")


def _drag(page: Page, selector: str, lo: float, hi: float) -> None:
    """Drag across ``selector`` from fraction ``lo`` to ``hi`` of its width."""
    box = page.locator(selector).bounding_box()
    assert box is not None
    y = box["y"] + box["height"] * 0.55
    page.mouse.move(box["x"] + box["width"] * lo, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * (lo + hi) / 2, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * hi, y, steps=5)
    page.mouse.up()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_dragging_on_the_timeline_prefills_a_request_and_offers_play_with_a_grant(
    web: Web,
    live_server: LiveServer,
    browser: Browser,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    # A one-hour window from T0: a drag over [25 %, 50 %] is T0+15 min .. T0+30 min.
    start, end = T0, T0 + timedelta(hours=1)
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        _login(page, live_server.url, "op")
        page.goto(f"{live_server.url}/timeline?span=1h&end={iso(end)}&lang=en")
        row = "#timeline-cam1 svg"
        expect(page.locator("#pick")).to_be_hidden()

        # Hover: the time under the pointer and the band there.
        box = page.locator(row).bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + 2, box["y"] + box["height"] * 0.55)
        expect(page.locator("#tl-hover")).to_be_visible()
        expect(page.locator("#tl-hover .tl-hover-text")).to_contain_text("recorded")

        _drag(page, row, 0.25, 0.5)
        expect(page.locator("#pick")).to_be_visible()
        href = page.locator("#pick-request").get_attribute("href")
        assert href is not None
        link = urlsplit(href)
        assert link.path == "/access/new"
        query = parse_qs(link.query)
        assert sorted(query) == ["camera", "end", "start"] and query["camera"] == ["cam1"]
        pixel = (end - start) / box["width"]
        lo, hi = _at(query["start"][0]), _at(query["end"][0])
        assert abs(lo - (start + timedelta(minutes=15))) <= 2 * pixel + timedelta(seconds=1)
        assert abs(hi - (start + timedelta(minutes=30))) <= 2 * pixel + timedelta(seconds=1)
        expect(page.locator("#pick-play")).to_be_hidden()  # an operator holds no grant
        expect(page.locator("#pick .tl-picked")).to_contain_text("Picked: cam1")
        expect(page.locator("#pick .tl-picked")).to_contain_text("min")

        # Following the link opens the request form (its prefill is the requests page's).
        page.click("#pick-request")
        page.wait_for_url("**/access/new?**")
        assert page.url.endswith(href)
        expect(page.locator("form")).not_to_have_count(0)

        # Keys pan, the wheel zooms: the window in the address changes.
        page.goto(f"{live_server.url}/timeline?span=1h&end={iso(end)}&lang=en")
        page.keyboard.press("ArrowLeft")
        page.wait_for_url(
            f"**/timeline?span=1h&end={iso(end - timedelta(minutes=30))}".replace(":", "%3A")
        )
        box = page.locator(row).bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, -100)
        page.wait_for_url("**span=30m**")

        # A custodian: the grant covers T0 .. T0+10 min, so a drag inside it offers play.
        other = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        try:
            cust = other.new_page()
            _login(cust, live_server.url, "cust")
            cust.goto(f"{live_server.url}/timeline?span=1h&end={iso(end)}&lang=en")
            _drag(cust, row, 0.02, 0.12)  # about T0+1 min .. T0+7 min
            play = cust.locator("#pick-play")
            expect(play).to_be_visible()
            played = urlsplit(play.get_attribute("href") or "")
            assert played.path == f"/play/{grant}"
            assert sorted(parse_qs(played.query)) == ["camera", "end", "start"]
        finally:
            other.close()
    finally:
        context.close()


def test_the_timeline_fits_a_375_px_screen(
    web: Web,
    live_server: LiveServer,
    browser: Browser,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    seal(web, tmp_path)
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        _login(page, live_server.url, "op")
        end = iso(T0 + timedelta(hours=1))
        for path in (f"/timeline?span=1h&end={end}", "/recordings/cam1", "/"):
            page.goto(f"{live_server.url}{path}")
            page.locator("#timeline-cam1 svg").scroll_into_view_if_needed()
            box = page.locator("#timeline-cam1 svg").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
            expect(page.locator("#tl-hover")).to_be_visible()
            wide = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            wider = page.evaluate(
                "[...document.querySelectorAll('.tl-controls, .tl-rows, .tl-pick, .tl-hover,"
                " .legend, .tl-keys')].filter(e => e.getBoundingClientRect().right >"
                " document.documentElement.clientWidth).map(e => e.className)"
            )
            # The timeline's own parts fit everywhere; the whole page is checked where the
            # timeline is all there is (other pages' tables are the layout's work).
            assert wider == [], (path, wider)
            if path.startswith("/timeline"):
                assert wide[0] <= wide[1], (path, wide)
    finally:
        context.close()
