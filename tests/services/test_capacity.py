"""Capacity: bitrates measured from sealed footage against the store's real size."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.config import Settings
from oversight.domain.capacity import measure
from oversight.services.sealing import seal_file
from tests.conftest import Env


def test_days_and_sufficiency_follow_bitrate_and_space() -> None:
    # 1 MB a second for one camera = 86.4 GB a day.
    cap = measure({"cam1": (60.0, 60_000_000)}, {"cam1": 30}, 0, 86_400_000_000 * 40, 30)
    assert cap.days == pytest.approx(40) and cap.sufficient
    short = measure({"cam1": (60.0, 60_000_000)}, {"cam1": 30}, 0, 86_400_000_000 * 29, 30)
    assert not short.sufficient
    longer_keep = measure({"cam1": (60.0, 60_000_000)}, {"cam1": 45}, 0, 86_400_000_000 * 40, 30)
    assert not longer_keep.sufficient  # 45 days kept by setting need more than 40 fit
    assert measure({}, {}, 0, 100, 30).days is None
    assert measure({"cam1": (60.0, 1)}, {"cam1": 30}, 0, None, 30).sufficient  # object store
    points = cap.projection(40)
    assert points[0][1] == 0 and points[30][1] == points[40][1] == pytest.approx(86.4e9 * 30)


def _deployment(env: Env, segment_bytes: int, seconds: int, tmp: Path) -> None:
    env.ok("init")
    env.ok("orgs", "add", "--id", "o", "--name", "O", "--kind", "owner")
    env.ok("sites", "add", "--id", "s", "--name", "S", "--category", "school", "--owner", "o")
    env.ok(
        "cameras", "add", "--id", "cam1", "--site", "s", "--placement", "general",
        "--coverage", "entrance", "--stream", "rtsp://127.0.0.1/cam1",
        "--commissioned", "2026-01-01",
    )  # fmt: skip
    system = bootstrap.build(Settings())
    try:
        start = datetime.now(UTC) - timedelta(hours=1)
        for i in range(4):
            path = tmp / f"seg{i}.mp4"
            path.write_bytes(os.urandom(segment_bytes))
            begin = start + timedelta(seconds=seconds * i)
            seal_file(system, camera="cam1", path=path, start=begin,
                      end=begin + timedelta(seconds=seconds))  # fmt: skip
            path.unlink()
    finally:
        system.close()


def test_a_store_too_small_for_30_days_is_a_finding(
    env: Env, small_fs: Path, tmp_path: Path
) -> None:
    env.monkeypatch.setenv("OVERSIGHT_DATA_DIR", str(small_fs / "var"))
    _deployment(env, 1_000_000, 60, tmp_path)  # ~133 kbit/s: 1.4 GB a day
    data = json.loads(env.ok("capacity", "--json").output)
    assert data["sufficient"] is False and data["days"] < 1
    assert data["cameras"][0]["mbit_per_s"] == pytest.approx(0.133, rel=0.01)
    report = json.loads(env.ok("compliance", "report", "--format", "json").output)
    [finding] = [f for f in report["findings"] if f["subject"] == "storage"]
    assert finding["article"] == "Art. 14(5)" and finding["rule"] == "retention_standard"
    svg = tmp_path / "use.svg"
    env.ok("capacity", "--svg", str(svg))
    assert svg.read_text().startswith("<svg") and "store size" in svg.read_text()


def test_a_store_large_enough_gives_no_finding(env: Env, tmp_path: Path) -> None:
    _deployment(env, 1_000, 60, tmp_path)  # 1.4 MB a day
    data = json.loads(env.ok("capacity", "--json").output)
    assert data["sufficient"] is True and data["days"] > 30
    report = json.loads(env.ok("compliance", "report", "--format", "json").output)
    assert not [f for f in report["findings"] if f["subject"] == "storage"]
