"""The console in a real headless Chromium against a real uvicorn server on 127.0.0.1:
what a newcomer does, page by page, with a screenshot of each."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Shots
from tests.web.conftest import PW, LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: the browser runs once
]


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
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
