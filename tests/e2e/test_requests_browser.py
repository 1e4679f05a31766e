"""The guided request form in a real headless Chromium (issue 22, item 5): choosing an
organisation class shows exactly that class's documents (from the rule pack), a "last
N minutes" preset fills the range, and a request entered that way is accepted."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.test_console_browser import log_in
from tests.web.conftest import LiveServer, Web
from tests.web.footage_helpers import POLICE_DOCS, seal

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", [None])]


def test_the_class_shows_its_documents_and_a_preset_fills_the_range(
    browser: Browser, live_server: LiveServer, web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, "cop")
    page.goto(f"{live_server.url}/access/new?camera=cam1&lang=en")
    inputs = page.locator("#request-document-inputs input[type=file]")

    def kinds() -> list[str]:
        return [n.removeprefix("doc_") for n in inputs.evaluate_all("l => l.map(i => i.name)")]

    assert kinds() == list(POLICE_DOCS)
    expect(page.locator("#class-show")).to_be_hidden()  # access.js does it in place
    page.select_option("#request-class", "individual")
    expect(inputs).to_have_count(3)
    assert kinds() == ["identity_document", "police_approval", "county_police"]
    assert page.locator("#request-org-class").input_value() == "individual"
    expect(page.locator("#request-documents")).to_contain_text("county (city) police")
    page.select_option("#request-class", "emergency_response")
    expect(inputs).to_have_count(3)
    assert kinds() == ["work_id", "identity_document", "unit_letter"]
    page.select_option("#request-class", "police")
    expect(inputs).to_have_count(4)
    # A preset: the last 60 minutes up to now, in the site's time zone.
    assert page.locator("#request-start").input_value() == ""
    page.click("#preset-60")
    start = datetime.fromisoformat(page.locator("#request-start").input_value())
    end = datetime.fromisoformat(page.locator("#request-end").input_value())
    assert end - start == timedelta(minutes=60)
    now = datetime.now(web.system.packs.timezone).replace(tzinfo=None)
    assert abs(end - now) < timedelta(minutes=2)
    assert page.url.endswith("/access/new?camera=cam1&lang=en&org_class=police")
    expect(page.locator("input[name=cameras][value=cam1]")).to_be_checked()
    # Filled and sent as a person would: the request is stored.
    for name, value in {
        "requester_name": "Officer Li",
        "work_id": "PS-1234",
        "id_doc": "COP00001",
        "organisation": "County Police",
        "purpose": "theft investigation 2026-17",
    }.items():
        page.fill(f"[name={name}]", value)
    for kind, data in POLICE_DOCS.items():
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(data)
        page.set_input_files(f"#doc-{kind}", str(path))
    page.click("#request-submit")
    expect(page.locator("#request-status")).to_have_text("pending")
    assert errors == [], errors
    context.close()


def test_the_request_pages_fit_a_phone_screen(
    browser: Browser, live_server: LiveServer, web: Web, tmp_path: Path
) -> None:
    seal(web, tmp_path, count=1)
    from tests.web.footage_helpers import submit_request

    request_id = submit_request(web.console("cop"))
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    log_in(page, live_server.url, "appr")
    for url in ("/access/new?camera=cam1", "/access/inbox", f"/access/{request_id}"):
        page.goto(f"{live_server.url}{url}")
        wide = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        culprits = page.evaluate(
            "() => [...document.querySelectorAll('body *')].filter(e => "
            "e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
            ".slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '"
            " + Math.round(e.getBoundingClientRect().right))"
        )
        assert wide[0] <= wide[1], (url, wide, culprits)
    context.close()
