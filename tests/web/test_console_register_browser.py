"""The register in Chromium on a real server (issue 22, item 7): after a playback the
register shows one line for the session; its request link opens the request; choosing
an action in the filter form keeps the other filters and narrows the lines."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import browser  # noqa: F401 - the fixture
from tests.web.conftest import PW, LiveServer, Web
from tests.web.test_console_register import _play


def test_the_register_reads_as_lines_and_links_to_the_request(
    web: Web,
    live_server: LiveServer,
    browser: Browser,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    request_id, grant, _ = _play(web, tmp_path)
    page = browser.new_context(locale="en-GB").new_page()
    base = live_server.url
    page.goto(f"{base}/login?lang=en")
    page.fill("input[name=user]", "aud")
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    expect(page.locator("header .user")).to_contain_text("(aud)")
    page.goto(f"{base}/audit?lang=en")
    expect(page.locator("#register tr.session")).to_have_count(1)
    expect(page.locator("#register tr.seals")).to_have_count(1)  # two seals, one line
    page.screenshot(path=str(tmp_path / "register.png"), full_page=True)
    page.fill("input[name=person]", "cust")
    page.select_option("#audit-action", "view")
    page.click("#audit-filters button[type=submit]")
    expect(page).to_have_url(f"{base}/audit?camera=&person=cust&action=view&request=&from=&to=")
    expect(page.locator("#register tr.session")).to_have_count(1)
    expect(page.locator("#register tr.seals")).to_have_count(0)
    page.locator("#register tr.session a", has_text=str(request_id)).click()
    expect(page).to_have_url(f"{base}/access/{request_id}")
    assert page.locator("h1").count() == 1 and str(grant)
