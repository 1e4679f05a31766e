"""Issue 22, item 4: an honest dashboard. When the recorder and the monitor are not
running, the dashboard says so in red, with since when; cameras never sit in grey
"stopped" under a green "Passed" integrity card."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from oversight.db import models as m
from oversight.services import health, recording, verify
from tests.actors import HOST
from tests.web.api_data import sealed_camera
from tests.web.conftest import Web


def card(html: str, card_id: str) -> str:
    start = html.index(f'id="{card_id}"')
    return html[start : html.index("</div>\n  </div>", start)]


def snapshot(web: Web, at_age: timedelta) -> None:
    now = web.system.clock.now()
    health.save_snapshot(
        web.system,
        health.Snapshot("cam1", "online", now, 10.0, 300.0, now, (), True, now - at_age),
    )


def test_a_stopped_recorder_and_monitor_are_red_with_since_when(web: Web, tmp_path: Path) -> None:
    sealed = sealed_camera(web.system, tmp_path, count=1)
    verify.record_run(web.system, HOST, verify.verify(web.system), web.system.clock.now())
    # The recorder stopped cleanly (it says "stopped"), the monitor last wrote a minute ago.
    recording.set_status(
        web.system, "cam1", state="stopped", since=sealed[0].end, last_segment_at=sealed[0].end
    )
    snapshot(web, timedelta(seconds=60))
    html = web.console("op").get("/?lang=en").text
    rec, mon = card(html, "recorder"), card(html, "monitor")
    assert 'class="big bad"' in rec and "not running" in rec and "since" in rec
    assert 'class="big bad"' in mon and "not running" in mon and "since" in mon
    row = html[html.index('<td><a href="/recordings/cam1">') :]
    row = row[: row.index("</tr>")]
    assert "status-stopped" not in row and ">stopped<" not in row
    assert 'class="status-recorder_stopped"' in row and "recorder not running" in row
    # The fragment the page refreshes every 5 s says the same.
    fragment = web.console("op").get("/fragments/camera-status?lang=en").text
    assert "recorder not running" in fragment


def test_a_recorder_killed_without_a_word_is_red_too(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    long_ago = web.system.clock.now() - timedelta(seconds=recording.STALE_AFTER_S + 30)
    recording.set_status(web.system, "cam1", state="recording", since=long_ago)
    with web.system.sessions.begin() as s:
        row = s.get(m.CameraStatus, "cam1")
        assert row is not None
        row.updated_at = long_ago
    html = web.console("op").get("/?lang=en").text
    assert "not running" in card(html, "recorder")
    assert "not running" in card(html, "monitor")  # never heard from: not running either
    assert "never" in card(html, "monitor")


def test_a_running_recorder_and_monitor_are_green(web: Web, tmp_path: Path) -> None:
    sealed = sealed_camera(web.system, tmp_path, count=1)
    recording.set_status(web.system, "cam1", state="recording", since=sealed[0].start)
    snapshot(web, timedelta(seconds=1))
    html = web.console("op").get("/?lang=en").text
    for name in ("recorder", "monitor"):
        assert re.search(r'class="big ok">running<', card(html, name)), name


def test_the_health_page_names_the_recorder_state_in_the_reader_s_language(
    web: Web, tmp_path: Path
) -> None:
    test_a_recorder_killed_without_a_word_is_red_too(web, tmp_path)
    html = web.console("op").get("/health?lang=zh").text
    row = html[html.index('id="health-cam1"') :]
    row = row[: row.index("</tr>")]
    assert 'class="status-recorder_down"' in row and "录像服务无响应" in row
    assert "recorder_down" not in row.replace('class="status-recorder_down"', "")
