"""Issue 22, item 6.4: a console export runs as a background job whose progress the
grant's page shows (clips cut of the total, self-check, zip, ledger record), then the
zip downloads; the job belongs to the session that started it; at most
``export_jobs_max`` run at once (then 503 and nothing is exported)."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from oversight.evidence.verify import verify_package
from oversight.services import export, people
from oversight.web.export_jobs import Busy, Jobs
from tests.e2e.conftest import browser  # noqa: F401 - the fixture
from tests.web.conftest import PW, ConsoleClient, LiveServer, Web
from tests.web.footage_helpers import (
    access_leaves,
    approved_grant,
    doc_files,
    grant_of,
    open_execution,
    request_form,
    seal,
)

pytestmark = pytest.mark.ffmpeg


def _wait(client: ConsoleClient, url: str) -> tuple[dict[str, Any], list[str]]:
    phases: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        reply = client.get(url)
        assert reply.status_code == 200, reply.text
        job: dict[str, Any] = reply.json()
        phases.append(job["phase"])
        if job["state"] != "running":
            return job, phases
        time.sleep(0.05)
    raise AssertionError("the export did not finish")


def test_a_background_export_reports_progress_and_downloads_once(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path)
    _, grant = approved_grant(web)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    started = cust.submit(f"/grants/{grant}/export/start", {})
    assert started.status_code == 202, started.text
    body = started.json()
    job, _ = _wait(cust, body["status_url"])
    assert job["state"] == "done" and job["phase"] == "record" and job["error"] is None
    assert job["name"].startswith(f"oversight-grant{grant}-cam1-")
    other = web.console("cust")  # the same person in another session
    assert other.get(body["status_url"]).status_code == 404
    assert other.get(body["download_url"]).status_code == 404
    reply = cust.get(body["download_url"])
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/zip"
    assert job["name"] in reply.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(reply.content)) as zf:
        zf.extractall(tmp_path / "out")
    [package] = list((tmp_path / "out").iterdir())
    assert verify_package(package).ok
    assert cust.get(body["download_url"]).status_code == 404  # once
    assert [leaf["action"] for leaf in access_leaves(web)[-2:]] == ["export", "export.done"]


def test_the_export_reports_each_phase_with_real_counts(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, camera="cam1")
    seal(web, tmp_path, camera="cam2")
    form = request_form("cam1", "copy")
    form["cameras"] = ["cam1", "cam2"]
    reply = web.console("cop").submit("/access/new", form, files=doc_files())
    assert reply.status_code == 303, reply.text
    two = int(reply.headers["location"].rsplit("/", 1)[1])
    approved = web.console("appr").submit(f"/access/{two}/approve", {"note": "ok"})
    assert approved.status_code == 303, approved.text
    grant = grant_of(web, two)
    seen: list[tuple[str, int, int]] = []
    people_ = {u: people.person_by_id(web.system, u) for u in ("cust", "wit")}
    out = export.export_grant(
        web.system,
        people_["cust"],
        people_["wit"],
        grant_id=grant,
        into=tmp_path,
        archive=True,
        progress=lambda *step: seen.append(step),
    )
    assert out.suffix == ".zip" and out.name.startswith(f"oversight-grant{grant}-cam1+cam2-")
    assert seen == [
        ("cut", 0, 2),
        ("cut", 1, 2),
        ("check", 0, 1),
        ("zip", 0, 1),
        ("record", 0, 1),
    ]


def test_a_refused_background_export_says_why(web: Web, tmp_path: Path) -> None:
    seal(web, tmp_path, count=1)
    cust = web.console("cust")
    _, grant = approved_grant(web)
    before = web.env.counts()
    assert cust.submit(f"/grants/{grant}/export/start", {}).status_code == 403  # no witness
    assert web.env.counts() == before
    _, view = approved_grant(web, kind="view")
    assert open_execution(cust, view).status_code == 303
    started = cust.submit(f"/grants/{view}/export/start", {})
    assert started.status_code == 202
    job, _ = _wait(cust, started.json()["status_url"])
    assert job["state"] == "failed" and "allows view, not copy" in job["error"]
    assert access_leaves(web)[-1]["action"] == "export.refused"


def test_no_more_jobs_run_than_the_setting_allows(tmp_path: Path) -> None:
    jobs = Jobs(most=1, keep_s=60)
    release = threading.Event()
    archive = tmp_path / "x.zip"

    def slow(progress: Any) -> tuple[Path, Path]:
        progress("cut", 0, 3)
        release.wait(10)
        archive.write_bytes(b"zip")
        return tmp_path, archive

    first = jobs.start("token-a", 1, slow)
    with pytest.raises(Busy, match="1 exports are running already"):
        jobs.start("token-b", 2, slow)
    assert jobs.get("token-a", first.id).status()["phase"] in ("release", "cut")
    release.set()
    deadline = time.monotonic() + 10
    while jobs.get("token-a", first.id).status()["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert jobs.take("token-a", first.id) == (tmp_path, archive)
    jobs.start("token-b", 2, slow)  # room again


@pytest.mark.browser
@pytest.mark.parametrize("database_url", [None])  # SQLite: the browser runs once
def test_the_grant_page_shows_progress_then_downloads(
    web: Web,
    live_server: LiveServer,
    browser: Browser,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    seal(web, tmp_path)
    request_id, grant = approved_grant(web)
    base = live_server.url
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(f"{base}/login?lang=en")
        page.fill("input[name=user]", "cust")
        page.fill("input[name=password]", PW)
        page.click("button[type=submit]")
        expect(page.locator("header .user")).to_contain_text("(cust)")
        page.goto(f"{base}/access/{request_id}")
        page.locator("#witness-user").fill("wit")
        page.locator("#witness-password").fill(PW)
        page.locator("#witness-button").click()
        expect(page.locator("#execution-open")).to_be_visible()
        with page.expect_download(timeout=120_000) as download:
            page.locator("#export-button").click()
            expect(page.locator("#export-progress")).to_be_visible()
        assert download.value.suggested_filename.startswith(f"oversight-grant{grant}-cam1-")
        expect(page.locator("#export-status")).to_contain_text("Done: the download starts.")
        saved = tmp_path / "saved.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as zf:
            zf.extractall(tmp_path / "unzipped")
        [package] = list((tmp_path / "unzipped").iterdir())
        assert verify_package(package).ok
        page.reload()
        expect(page.locator("#grant-exports")).to_contain_text(
            download.value.suggested_filename.removesuffix(".zip")
        )
    finally:
        context.close()
