"""End-to-end fixtures: the web app fixtures of tests/web, and a real headless Chromium
driven by Playwright (Debian's /usr/bin/chromium: Playwright never downloads one)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.web.conftest import ARTIFACTS, fast_hashes, live_server, web  # noqa: F401

CHROMIUM = os.environ.get("OVERSIGHT_CHROMIUM", "/usr/bin/chromium")
# Without the networking switches Chromium keeps calling Google's hosts, which this
# machine's closed network refuses; the sandbox needs user namespaces CI may not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: Playwright's sync API keeps an event loop running on the main thread
    while it is open, which other tests' asyncio code must not find."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make setup` installs it (as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


class Shots:
    """Screenshots of each page a test visits, kept as CI artifacts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def take(self, page: Page, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{re.sub(r'[^a-z0-9-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)
    folder = ARTIFACTS / "screenshots" / name
    shutil.rmtree(folder, ignore_errors=True)
    return Shots(folder)
