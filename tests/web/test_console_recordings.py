"""The recordings pages: status, segment metadata and gaps with filters, and a
camera's page with its 7-day coverage timeline. No footage bytes are ever served."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from oversight.services import recording, retention
from tests.actors import HOST
from tests.web.api_data import SEGMENT, sealed_camera
from tests.web.conftest import Web


def _seed(web: Web, tmp: Path) -> None:
    """cam1: three segments, a one-minute gap, then one more; cam2: one segment."""
    sealed = sealed_camera(web.system, tmp, camera="cam1", count=3)
    gap_start = sealed[-1].end
    recording.record_gap(
        web.system, camera="cam1", start=gap_start, end=gap_start + SEGMENT, reason="rtsp timeout"
    )
    sealed_camera(web.system, tmp, camera="cam2", count=1, start=gap_start + SEGMENT)


def test_the_list_shows_segments_and_gaps_of_the_last_day(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    reply = web.console("op").get("/recordings?lang=en")
    assert reply.status_code == 200
    html = reply.text
    assert "4 segments." in html and len(re.findall(r'<tr id="segment-\d+"', html)) == 4
    # A plain reason on the list (issue 22, item 9); the recorder's words are for detail.
    # The gap's length in words (issue 22, item 2: "1 min", no longer "1.0 min").
    assert "camera unreachable" in html and "rtsp timeout" not in html and "<td>1 min</td>" in html
    assert 'hx-trigger="every 5s"' in html


def test_filters_by_camera_and_local_dates(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    client = web.console("aud")
    only = client.get("/recordings?camera=cam2&lang=en").text
    assert "1 segments." in only and "No gaps in this range." in only
    assert "No segments in this range." in client.get("/recordings?to=2020-01-01&lang=en").text
    tomorrow = web.system.packs.local_date(web.system.clock.now()) + timedelta(days=1)
    both = client.get(f"/recordings?from=2020-01-01&to={tomorrow}&lang=en").text
    assert "4 segments." in both
    assert client.get("/recordings?from=later").status_code == 400
    assert client.get("/recordings?camera=nope").status_code == 404


def test_a_camera_page_draws_a_week_of_coverage(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    now = web.system.clock.now()
    retention.place_hold(web.system, HOST, "cam1", now - timedelta(hours=3), now, "case 7")
    html = web.console("cust").get("/recordings/cam1?lang=en").text
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert len(re.findall(r'<rect class="recorded"', svg)) == 1
    assert len(re.findall(r'<rect class="gap"', svg)) == 1
    assert len(re.findall(r'<rect class="held"', svg)) == 1
    assert ">recorded<" not in svg  # labels live in titles, not as stray text
    assert "camera unreachable" in html and "3 segments." in html
    assert "rtsp timeout" not in html  # a custodian reads the plain reason only
    assert "Coverage over the last 7 days" in html


def test_unknown_cameras_and_roles(web: Web, tmp_path: Path) -> None:
    _seed(web, tmp_path)
    assert web.console("op").get("/recordings/nope").status_code == 404
    for user in ("wit", "cop"):
        client = web.console(user)
        assert client.get("/recordings").status_code == 403
        assert client.get("/recordings/cam1").status_code == 403


def test_a_long_range_lists_the_newest_segments_and_says_there_are_more(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oversight.web.console import recordings

    monkeypatch.setattr(recordings, "SHOWN", 2)
    monkeypatch.setattr(recordings, "RECENT", 2)
    sealed = sealed_camera(web.system, tmp_path, count=3)
    client = web.console("op")
    html = client.get("/recordings?lang=en").text
    shown = [int(i) for i in re.findall(r'<tr id="segment-(\d+)"', html)]
    assert shown == [sealed[2].id, sealed[1].id]  # the newest two, newest first
    assert "More than 2 segments in this range" in html
    page = client.get("/recordings/cam1?lang=en").text
    assert "3 segments. Showing the latest 2." in page
