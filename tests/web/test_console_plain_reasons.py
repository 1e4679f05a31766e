"""Issue 22, item 9: raw ffmpeg stderr was shown to every role as "Last error" and as a
gap's reason. Now every page shows a plain reason; ffmpeg's words show only in the
camera's detail view, to the roles the policy lets see them (recordings.diagnostics:
admins and operators)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oversight.services import recording
from tests.web.api_data import sealed_camera
from tests.web.conftest import Web

RAW = (
    "ffmpeg exited with code 1: [tcp @ 0x560727864580] Connection to "
    "tcp://127.0.0.1:9?timeout=0 failed: Connection refused"
)
PLAIN = "camera unreachable"


def broken_camera(web: Web, tmp_path: Path) -> None:
    sealed = sealed_camera(web.system, tmp_path, count=1)
    now = web.system.clock.now()
    recording.set_status(web.system, "cam1", state="reconnecting", since=now, last_error=RAW)
    recording.record_gap(
        web.system,
        camera="cam1",
        start=sealed[0].end,
        end=sealed[0].end + timedelta(seconds=20),
        reason=RAW + " (3 restart attempts)",
    )


def test_every_role_reads_a_plain_reason_on_every_page(web: Web, tmp_path: Path) -> None:
    broken_camera(web, tmp_path)
    for user in ("boss", "op", "cust", "aud"):
        console = web.console(user)
        for path in ("/", "/fragments/camera-status", "/recordings"):
            html = console.get(f"{path}?lang=en").text
            assert "Connection refused" not in html and "ffmpeg" not in html, (user, path)
            assert PLAIN in html, (user, path)


def test_ffmpeg_words_only_in_the_detail_view_of_admins_and_operators(
    web: Web, tmp_path: Path
) -> None:
    broken_camera(web, tmp_path)
    for user in ("boss", "op"):
        html = web.console(user).get("/recordings/cam1?lang=en").text
        assert PLAIN in html
        detail = html[html.index('id="raw-error"') :]
        assert "Connection refused" in detail[: detail.index("</details>")], user
        assert 'class="raw-reason"' in html  # the gap's own words, folded
    for user in ("cust", "aud"):
        html = web.console(user).get("/recordings/cam1?lang=en").text
        assert PLAIN in html and "Connection refused" not in html and "ffmpeg" not in html, user


def test_plain_reasons_are_in_chinese_too(web: Web, tmp_path: Path) -> None:
    broken_camera(web, tmp_path)
    html = web.console("aud").get("/recordings/cam1?lang=zh").text
    assert "摄像机无法连接" in html and PLAIN not in html
