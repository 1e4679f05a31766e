"""The player page's data, through the real app: per camera, the map from media time to
wall-clock time (the same entries as its playlist, so the time shown is the time of the
frame played), the gaps of the range shown, up to the setting's number of cameras of
one grant, and the range and instant asked in the URL (bounded to the grant)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from oversight.web.console import player_clock
from tests.web.conftest import Web
from tests.web.footage_helpers import T0, access_leaves, open_execution
from tests.web.player_helpers import grant_over, seal_at

pytestmark = pytest.mark.ffmpeg


def _ms(seconds: float) -> int:
    return player_clock.millis(T0 + timedelta(seconds=seconds))


def _data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="player-data">(.*?)</script>', html)
    assert found, "the page carries no player data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _extinf(playlist: str) -> list[tuple[float, datetime]]:
    stamps = re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", playlist)
    durations = re.findall(r"#EXTINF:([0-9.]+),", playlist)
    return [(float(d), datetime.fromisoformat(s)) for d, s in zip(durations, stamps, strict=True)]


def test_the_page_maps_media_time_to_the_wall_clock_with_the_gaps_marked(
    web: Web, tmp_path: Path
) -> None:
    seal_at(web, tmp_path, "cam1", [0, 5])  # footage 0-2 s and 5-7 s: a gap 2-5 s
    seal_at(web, tmp_path, "cam2", [0, 2])  # footage 0-4 s
    end = T0 + timedelta(seconds=10)
    grant = grant_over(web, ["cam1", "cam2"], T0, end)
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303

    page = cust.get(f"/play/{grant}")
    assert page.status_code == 200, page.text
    data = _data(page.text)
    assert [c["id"] for c in data["cameras"]] == ["cam1", "cam2"]  # both, side by side
    assert data["window"] == {"start": _ms(0), "end": _ms(10)} and data["at"] == _ms(0)
    assert data["tz"] == str(web.system.packs.timezone) and data["fps"] == 25
    cam1, cam2 = data["cameras"]
    assert cam1["pieces"] == [
        {"media": 0.0, "duration": 2.0, "start": _ms(0), "end": _ms(2)},
        {"media": 2.0, "duration": 2.0, "start": _ms(5), "end": _ms(7)},
    ]
    assert cam1["gaps"] == [{"start": _ms(2), "end": _ms(5)}, {"start": _ms(7), "end": _ms(10)}]
    assert [p["start"] for p in cam2["pieces"]] == [_ms(0), _ms(2)]
    assert cam2["gaps"] == [{"start": _ms(4), "end": _ms(10)}]
    # Drawn on the scrub bar, one lane per camera.
    assert page.text.count('class="gap-mark"') == 3
    assert f'data-start="{_ms(2)}" data-end="{_ms(5)}"' in page.text
    # Each camera read its codec through the enforcement point: one view.probe each.
    probes = [x for x in access_leaves(web) if x["action"] == "view.probe"]
    assert sorted(x["target"] for x in probes) == ["cam1", "cam2"]

    # The map is the playlist's: each piece starts where the playlist's EXTINFs add up
    # to, at its PROGRAM-DATE-TIME.
    for cam in (cam1, cam2):
        listed = _extinf(cust.get(cam["playlist"]).text)
        media = 0.0
        for piece, (duration, stamp) in zip(cam["pieces"], listed, strict=True):
            assert piece["media"] == pytest.approx(media) and piece["duration"] == duration
            assert piece["start"] == player_clock.millis(stamp)
            media += duration


def test_a_cut_first_segment_starts_the_clock_at_its_first_keyframe(
    web: Web, tmp_path: Path
) -> None:
    seal_at(web, tmp_path, "cam1", [0, 2])
    start = T0 + timedelta(seconds=0.3)  # keyframes every 0.2 s: the cut starts at 0.4 s
    grant = grant_over(web, ["cam1"], start, T0 + timedelta(seconds=4))
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    [cam] = _data(cust.get(f"/play/{grant}").text)["cameras"]
    first, second = cam["pieces"]
    assert first["start"] == _ms(0.4) and first["media"] == 0.0
    assert first["duration"] == pytest.approx(1.6)
    assert second == {"media": first["duration"], "duration": 2.0, "start": _ms(2), "end": _ms(4)}
    assert cam["gaps"] == [{"start": _ms(0.3), "end": _ms(0.4)}]


def test_the_url_narrows_the_range_and_sets_the_instant_inside_the_grant(
    web: Web, tmp_path: Path
) -> None:
    seal_at(web, tmp_path, "cam1", [0, 2, 4])
    grant = grant_over(web, ["cam1"], T0, T0 + timedelta(seconds=30))
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303

    def iso(seconds: float) -> str:
        return quote((T0 + timedelta(seconds=seconds)).isoformat())

    page = cust.get(f"/play/{grant}?camera=cam1&start={iso(1)}&end={iso(5)}&at={iso(3)}")
    assert page.status_code == 200, page.text
    data = _data(page.text)
    assert data["window"] == {"start": _ms(1), "end": _ms(5)} and data["at"] == _ms(3)
    assert data["cameras"][0]["gaps"] == []
    # A 'Z' time and a '+' that arrived as a space read the same; a range reaching past
    # the grant is cut to it.
    zulu = (T0 + timedelta(seconds=3)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    spaced = (T0 + timedelta(seconds=3)).isoformat().replace("+", " ")
    for at in (zulu, spaced):
        reply = cust.get(f"/play/{grant}", params={"at": at, "end": "2999-01-01T00:00:00+00:00"})
        assert reply.status_code == 200, reply.text
        assert _data(reply.text)["at"] == _ms(3)
        assert _data(reply.text)["window"]["end"] == _ms(30)

    before = web.env.counts()
    bad = {
        f"start={iso(40)}&end={iso(50)}": "outside grant",
        f"at={iso(-5)}": "outside the range shown",
        f"start={iso(5)}&end={iso(1)}": "before it starts",
        "at=yesterday": "is not a date and time",
    }
    for query, why in bad.items():
        reply = cust.get(f"/play/{grant}?{query}", headers={"accept-language": "en"})
        assert reply.status_code == 400 and why in reply.text, (query, reply.text[:300])
    assert web.env.counts() == before  # refused before anything was read or written


def test_no_more_cameras_than_the_setting_and_only_the_grants(web: Web, tmp_path: Path) -> None:
    for cam in ("cam1", "cam2", "cam3"):
        seal_at(web, tmp_path, cam, [0])
    seal_at(web, tmp_path, "cam9", [0])
    grant = grant_over(web, ["cam1", "cam2", "cam3"])
    cust = web.console("cust")
    assert open_execution(cust, grant).status_code == 303
    web.system.settings.player_max_cameras = 2
    shown = _data(cust.get(f"/play/{grant}").text)["cameras"]
    assert [c["id"] for c in shown] == ["cam1", "cam2"]  # the first two by default
    chosen = cust.get(f"/play/{grant}?camera=cam3&camera=cam1")
    assert [c["id"] for c in _data(chosen.text)["cameras"]] == ["cam3", "cam1"]
    before = len(access_leaves(web))
    three = cust.get(f"/play/{grant}?camera=cam1&camera=cam2&camera=cam3")
    assert three.status_code == 400 and "at most 2 cameras" in three.text
    assert len(access_leaves(web)) == before
    other = cust.get(f"/play/{grant}?camera=cam1&camera=cam9", headers={"accept-language": "en"})
    assert other.status_code == 422 and "does not cover camera cam9" in other.text
