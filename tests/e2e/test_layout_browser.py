"""Issue 22, item 9 (layout): every console page, at a phone's width (375 px) and a
desktop's (1440 px), in a real headless Chromium, has no sideways overflow
(``scrollWidth <= clientWidth``), no field of a form overlaps another or reaches out
of its label, and each page says ``width=device-width`` in its viewport meta.

The pages are taken from the app's own routes, so a new page is covered without an
edit here; what is not a page (streams, downloads, JSON) is listed in ``NOT_PAGES``.
Path parameters are filled with real ids from the seeded data: a camera with sealed
H.264 footage, a long ffmpeg error and a gap, an approved request and its grant, the
grant being executed with a witness so that its player opens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from starlette.routing import Mount

from oversight.services import recording
from tests.e2e.conftest import Shots
from tests.e2e.test_console_browser import log_in
from tests.recorder.helpers import needs_ffmpeg
from tests.web.conftest import PW, LiveServer, Web
from tests.web.footage_helpers import approved_grant, seal
from tests.web.test_route_auth import _flat

pytestmark = [
    pytest.mark.browser,
    pytest.mark.ffmpeg,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: the browser runs once
]

WIDTHS = (375, 1440)
# GET routes that are not pages a person reads, and why.
NOT_PAGES = {
    "/events/alarms",  # server-sent events (the alarm banner's stream)
    "/audit.csv",  # a download
    "/access/{request_id}/documents/{kind}",  # a download (a request's document)
    "/api/openapi.json",  # JSON (its page is /api/docs)
    "/fragments/camera-status",  # an htmx fragment swapped into the dashboard
    "/fragments/findings",  # an htmx fragment swapped into the dashboard
    "/exports/jobs/{job_id}",  # JSON: an export job's progress
    "/exports/jobs/{job_id}/download",  # a download (the export's zip)
    "/play/{grant_id}/{camera}/index.m3u8",  # an HLS playlist
    "/play/{grant_id}/seg/{segment_id}/init.mp4",  # footage bytes
    "/play/{grant_id}/seg/{segment_id}/media.m4s",  # footage bytes
    "/play/{grant_id}/snapshot",  # footage bytes (a still image)
    "/timeline/thumbnail/{grant_id}",  # footage bytes (a hover thumbnail)
}
# Routes outside the console: the REST API (JSON) and the metrics (text).
NOT_CONSOLE = ("/api/v1/", "/metrics")
# Pages the admin does not see (by the policy): whose session opens them instead.
VIEWER = {
    "/exports": "cust",  # custodians export
    "/live": "op",  # live view: operators on duty (Art. 14(2))
    "/play/{grant_id}": "cust",  # the custodian executing the grant, with its witness
}
# Before login: the one page of a logged-out visitor (logged in, it sends you home).
LOGGED_OUT = {"/login"}
# A long, unbroken ffmpeg line, as the recorder stores it: a classic sideways overflow.
RAW = (
    "ffmpeg exited with code 1: [tcp @ 0x560727864580] Connection to "
    "tcp://127.0.0.1:9?timeout=0&listen_timeout=5000000&stimeout=5000000 failed: "
    "Connection refused; rtsp://127.0.0.1:8554/cam1/a-very-long-path-without-any-break-in-it"
)


def console_pages(web: Web) -> list[str]:
    """Every GET route of the console that is a page, from the app itself."""
    found = []
    for route in _flat(web.app.routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount) or "GET" not in (route.methods or set()):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # {id:int}: a converter
        if path.startswith(NOT_CONSOLE) or path in NOT_PAGES:
            continue
        found.append(path)
    return sorted(set(found))


@dataclass(frozen=True)
class Seeded:
    camera: str
    request_id: int
    grant_id: int

    def url(self, path: str) -> str:
        ids = {"camera_id": self.camera, "request_id": self.request_id, "grant_id": self.grant_id}
        for name, value in ids.items():
            path = path.replace("{" + name + "}", str(value))
        assert "{" not in path, f"no seeded id for {path}: add one to Seeded"
        return path


def seed(web: Web, tmp: Path) -> Seeded:
    segments = seal(web, tmp, "cam1", count=2)
    now = web.system.clock.now()
    recording.set_status(web.system, "cam1", state="reconnecting", since=now, last_error=RAW)
    recording.record_gap(
        web.system,
        camera="cam1",
        start=segments[-1].end,
        end=segments[-1].end + timedelta(seconds=20),
        reason=RAW,
    )
    request_id, grant_id = approved_grant(web, "cam1")
    return Seeded("cam1", request_id, grant_id)


def overflow(page: Page) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the document."""
    sizes: list[int] = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return sizes[0], sizes[1]


# The innermost elements reaching past the right edge: what to fix, named in the failure.
CULPRITS = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const wide = el => el.getBoundingClientRect().right > edge;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '');
  return [...document.body.querySelectorAll('*')]
    .filter(el => wide(el) && ![...el.children].some(wide))
    .slice(0, 4).map(el => (el.parentElement ? name(el.parentElement) + ' > ' : '') + name(el));
}"""


# Every form laid out as a grid, its folded <details> opened: a field (a label or a
# fieldset) or the submit button that overlaps another, or a control that reaches out
# of its own label (the camera form's Placement over the next column and the button).
OVERLAPS = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const out = [];
  const box = el => el.getBoundingClientRect();
  const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1
    && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const name = el => el.tagName.toLowerCase() + (el.name ? '[' + el.name + ']' : '');
  for (const form of document.querySelectorAll('form.grid')) {
    const items = [...form.children].filter(el => el.type !== 'hidden' && box(el).width > 0);
    items.forEach((a, i) => items.slice(i + 1).forEach(b => {
      if (meet(box(a), box(b))) out.push(`#${form.id}: ${a.textContent.trim().slice(0, 20)}`
        + ` overlaps ${b.textContent.trim().slice(0, 20)}`);
    }));
    for (const label of form.querySelectorAll('label')) {
      const outer = box(label);
      for (const control of label.querySelectorAll('input, select, textarea')) {
        const inner = box(control);
        if (inner.width && (inner.right > outer.right + 1 || inner.left < outer.left - 1))
          out.push(`#${form.id}: ${name(control)} reaches out of its label`);
      }
    }
  }
  return out;
}"""


def viewport_meta(page: Page) -> str:
    found: str | None = page.evaluate(
        "(document.querySelector('meta[name=viewport]') || {}).content || null"
    )
    return found or ""


def executing(browser: Browser, base: str, seeded: Seeded) -> BrowserContext:
    """A custodian's session with the grant open for execution (the witness signed in)."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    log_in(page, base, "cust")
    page.goto(f"{base}/access/{seeded.request_id}")
    page.locator("#witness-user").fill("wit")
    page.locator("#witness-password").fill(PW)
    page.locator("#witness-button").click()
    expect(page.locator("#execution-open")).to_be_visible()
    page.close()
    return context


def test_every_console_page_fits_375_and_1440_px_without_sideways_scrolling(
    browser: Browser, live_server: LiveServer, web: Web, tmp_path: Path, shots: Shots
) -> None:
    base = live_server.url
    seeded = seed(web, tmp_path)
    pages = console_pages(web)
    # The enumeration found the console, not just a few routes (a guard for the guard).
    assert {"/", "/registry", "/access/new", "/recordings", "/play/{grant_id}"} <= set(pages)
    anonymous = browser.new_context(locale="en-GB")
    sessions = {"": anonymous, "cust": executing(browser, base, seeded)}
    for user in ("boss", "op"):
        sessions[user] = browser.new_context(locale="en-GB")
        log_in(sessions[user].new_page(), base, user)
    problems: list[str] = []
    visited = 0
    for path in pages:
        user = "" if path in LOGGED_OUT else VIEWER.get(path, "boss")
        page = sessions[user].new_page()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            reply = page.goto(f"{base}{seeded.url(path)}?lang=en")
            status = None if reply is None else reply.status
            assert status is not None and status < 400, f"{path} as {user!r}: {status}"
            page.wait_for_load_state("load")
            scroll, client = overflow(page)
            visited += 1
            if scroll > client:
                wide = ", ".join(page.evaluate(CULPRITS))
                problems.append(f"{path} at {width} px: scrollWidth {scroll} > {client} ({wide})")
                shots.take(page, f"{path}-{width}")
            problems.extend(f"{path} at {width} px: {o}" for o in page.evaluate(OVERLAPS))
            if width == WIDTHS[0] and "width=device-width" not in viewport_meta(page):
                problems.append(f"{path}: no <meta name=viewport content=width=device-width>")
        page.close()
    for context in sessions.values():
        context.close()
    assert visited == len(WIDTHS) * len(pages)
    assert problems == [], "\n".join(problems)
