"""Window queries are bounded by each camera's longest segment (services/windows.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from oversight import bootstrap
from oversight.db import models as m
from oversight.services import recording, windows
from oversight.services.sealing import seal_file
from tests.actors import HOST
from tests.recorder.helpers import add_camera

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def cams(system: bootstrap.System) -> bootstrap.System:
    add_camera(system, "cam1", "rtsp://10.0.0.9/live")
    add_camera(system, "cam2", "rtsp://10.0.0.10/live")
    return system


def _seal(system: bootstrap.System, tmp: Path, camera: str, n: int, a: float, b: float) -> None:
    f = tmp / f"{camera}-{n}.mp4"
    f.write_bytes(b"segment %d" % n)
    seal_file(
        system, camera=camera, path=f,
        start=T0 + timedelta(seconds=a), end=T0 + timedelta(seconds=b),
    )  # fmt: skip


def test_durations_round_up_to_the_millisecond() -> None:
    assert windows.duration_ms(T0, T0 + timedelta(seconds=60)) == 60_000
    assert windows.duration_ms(T0, T0 + timedelta(seconds=60, microseconds=1)) == 60_001
    assert windows.duration_ms(T0, T0 + timedelta(microseconds=999)) == 1


def test_every_seal_raises_its_cameras_longest_segment(
    cams: bootstrap.System, tmp_path: Path
) -> None:
    _seal(cams, tmp_path, "cam1", 1, 0, 10)
    _seal(cams, tmp_path, "cam1", 2, 10, 70.0005)  # 60.0005 s: 60,001 ms
    _seal(cams, tmp_path, "cam1", 3, 70.0005, 80)  # shorter: the bound stays
    _seal(cams, tmp_path, "cam2", 1, 0, 5)
    with cams.reads() as s:
        assert windows.longest(s, ["cam1"]) == timedelta(milliseconds=60_001)
        assert windows.longest(s, ["cam2"]) == timedelta(seconds=5)
        assert windows.longest(s) == timedelta(milliseconds=60_001)
        assert windows.longest(s, ["ghost"]) == timedelta(0)


def test_a_long_segment_far_back_is_found_and_the_range_stays_bounded(
    cams: bootstrap.System, tmp_path: Path
) -> None:
    # A two-hour segment, then a day of one-minute segments after it on another camera.
    _seal(cams, tmp_path, "cam1", 0, 0, 7200)
    for i in range(30):
        _seal(cams, tmp_path, "cam2", i, 60 * i, 60 * i + 60)
    start, end = T0 + timedelta(seconds=7000), T0 + timedelta(seconds=7100)
    assert [
        (s.camera, s.seq) for s in recording.list_segments(cams, HOST, start=start, end=end)
    ] == [("cam1", 1)]
    # cam2's bound is its own one minute, not cam1's two hours.
    with cams.reads() as s:
        query = select(m.Segment.id).where(
            m.Segment.camera_id == "cam2", *windows.overlapping(s, start, end, ["cam2"])
        )
        compiled = query.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
        if s.get_bind().dialect.name == "sqlite":
            plan = " ".join(r[-1] for r in s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            # One index range with both ends on the start time, never a scan.
            assert "ix_segments_camera_start (camera_id=? AND start_at>? AND start_at<?)" in plan
        assert "2026-05-01 13:55:40" in str(compiled)  # 7,000 s - 60 s after T0
