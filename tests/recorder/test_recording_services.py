"""Gaps, camera status, events and the segment index, through the services and the
CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.db import models as m
from oversight.errors import InvalidInput, NotFound
from oversight.ledger.leaves import decode
from oversight.services import recording
from oversight.services.sealing import seal_file
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
SECRET_URL = "rtsp://admin:hunter2-secret@10.0.0.9/live"


@pytest.fixture
def cams(system: bootstrap.System) -> bootstrap.System:
    add_camera(system, "cam1", SECRET_URL)
    add_camera(system, "cam2", "rtsp://10.0.0.10/live")
    return system


def test_a_gap_is_an_index_row_and_a_ledger_leaf(cams: bootstrap.System) -> None:
    gap = recording.record_gap(
        cams,
        camera="cam1",
        start=T0,
        end=T0 + timedelta(seconds=42),
        reason="ffmpeg exited with code 0: rtsp://admin:hunter2-secret@10.0.0.9/live: timed out",
    )
    assert "hunter2" not in gap.reason and "rtsp://***@10.0.0.9/live" in gap.reason
    with cams.sessions() as s:
        leaf = decode(cams.ledger.leaf(s, gap.leaf_index).data)
    assert leaf["type"] == "gap" and leaf["camera"] == "cam1"
    assert leaf["start"] == "2026-05-01T12:00:00.000000Z"
    assert leaf["end"] == "2026-05-01T12:00:42.000000Z"
    assert leaf["reason"] == gap.reason
    assert recording.list_gaps(cams, HOST, "cam1") == [gap]
    assert recording.list_gaps(cams, HOST, "cam2") == []


def test_bad_gaps_are_refused(cams: bootstrap.System) -> None:
    with pytest.raises(InvalidInput):
        recording.record_gap(cams, camera="cam1", start=T0, end=T0, reason="x")
    with pytest.raises(InvalidInput):
        recording.record_gap(cams, camera="cam1", start=T0.replace(tzinfo=None), end=T0, reason="x")
    with pytest.raises(NotFound):
        recording.record_gap(
            cams, camera="nope", start=T0, end=T0 + timedelta(seconds=1), reason="x"
        )
    assert recording.list_gaps(cams, HOST) == []


def test_status_is_replaced_and_listed_for_every_camera(cams: bootstrap.System) -> None:
    plus8 = timezone(timedelta(hours=8))
    recording.set_status(cams, "cam1", state="recording", since=T0.astimezone(plus8))
    recording.set_status(
        cams,
        "cam1",
        state="reconnecting",
        since=T0 + timedelta(minutes=1),
        last_segment_at=T0 + timedelta(seconds=59),
        last_error=f"cannot open {SECRET_URL}",
    )
    one, two = recording.list_status(cams, HOST)
    assert (one.camera, one.state, one.since) == ("cam1", "reconnecting", T0 + timedelta(minutes=1))
    assert one.last_segment_at == T0 + timedelta(seconds=59)
    assert one.last_error is not None and "hunter2" not in one.last_error
    assert (two.camera, two.state) == ("cam2", "never recorded")
    with pytest.raises(InvalidInput):
        recording.set_status(cams, "cam1", state="sleeping", since=T0)


def test_statuses_of_several_cameras_are_stored_together_or_not_at_all(
    cams: bootstrap.System,
) -> None:
    later = T0 + timedelta(seconds=10)
    recording.set_statuses(
        cams,
        [
            recording.StatusUpdate("cam1", "recording", T0, last_segment_at=later),
            recording.StatusUpdate("cam2", "reconnecting", T0, last_error="stalled"),
        ],
    )
    one, two = recording.list_status(cams, HOST)
    assert (one.state, one.last_segment_at) == ("recording", later)
    assert (two.state, two.last_error) == ("reconnecting", "stalled")
    # One bad update refuses the whole batch: cam1's good one is not written either.
    with pytest.raises(InvalidInput, match="sleeping"):
        recording.set_statuses(
            cams,
            [
                recording.StatusUpdate("cam1", "offline", later),
                recording.StatusUpdate("cam2", "sleeping", later),
            ],
        )
    assert [s.state for s in recording.list_status(cams, HOST)] == ["recording", "reconnecting"]


def test_recordable_cameras_leave_out_removed_ones(cams: bootstrap.System, env: Env) -> None:
    assert [c.id for c in recording.recordable_cameras(cams)] == ["cam1", "cam2"]
    assert [c.id for c in recording.recordable_cameras(cams, ("cam2",))] == ["cam2"]
    assert "hunter2" not in repr(recording.recordable_cameras(cams))
    today = cams.packs.local_date(cams.clock.now()).isoformat()
    env.ok("cameras", "remove", "cam1", "--date", today)
    assert [c.id for c in recording.recordable_cameras(cams)] == ["cam2"]


def test_segments_list_filters_by_camera_and_overlap(
    cams: bootstrap.System, env: Env, tmp_path: Path
) -> None:
    for i in range(3):
        f = tmp_path / f"s{i}.mp4"
        f.write_bytes(b"segment %d" % i)
        start = T0 + timedelta(seconds=10 * i)
        seal_file(cams, camera="cam1", path=f, start=start, end=start + timedelta(seconds=10))
    assert recording.coverage_end(cams, "cam1") == T0 + timedelta(seconds=30)
    assert recording.coverage_end(cams, "cam2") is None
    window = recording.list_segments(
        cams, HOST, camera="cam1", start=T0 + timedelta(seconds=15), end=T0 + timedelta(seconds=25)
    )
    assert [s.seq for s in window] == [2, 3]
    out = json.loads(
        env.ok(
            "segments", "list", "--camera", "cam1", "--from", "2026-05-01T20:00:15+08:00", "--json"
        ).output
    )
    assert [s["seq"] for s in out] == [2, 3]
    assert out[0]["start"].startswith("2026-05-01 12:00:10")
    table = env.ok("segments", "list").output
    assert "cam1" in table and "10.0" in table
    env.fails("segments", "list", "--from", "yesterday")
    env.fails("segments", "list", "--camera", "ghost")


def test_segment_windows_agree_with_a_brute_force_overlap_filter(
    cams: bootstrap.System, tmp_path: Path
) -> None:
    # Irregular segments: a 10-minute one that starts long before later windows and
    # overlaps its successors (a clock stepped back), short ones, and a gap.
    spans = [(0, 600), (60, 120), (120, 180), (180, 240), (400, 460), (460, 520), (900, 960)]
    for i, (a, b) in enumerate(spans):
        f = tmp_path / f"w{i}.mp4"
        f.write_bytes(b"window segment %d" % i)
        seal_file(
            cams, camera="cam1", path=f,
            start=T0 + timedelta(seconds=a), end=T0 + timedelta(seconds=b),
        )  # fmt: skip
    every = recording.list_segments(cams, HOST, camera="cam1")
    assert len(every) == len(spans)
    for lo, hi in [(30, 90), (130, 135), (250, 399), (500, 1000), (0, 2000), (590, 610)]:
        start, end = T0 + timedelta(seconds=lo), T0 + timedelta(seconds=hi)
        want = [s.seq for s in every if s.end > start and s.start < end]
        for limit in (None, 1, 2, 50):
            got = recording.list_segments(
                cams, HOST, camera="cam1", start=start, end=end, limit=limit
            )
            assert [s.seq for s in got] == want[:limit], (lo, hi, limit)
            newest = recording.list_segments(
                cams, HOST, camera="cam1", start=start, end=end, limit=limit, newest_first=True
            )
            assert [s.seq for s in newest] == want[::-1][:limit], (lo, hi, limit)
        # Without a camera, and open-ended, the same answers.
        assert [s.seq for s in recording.list_segments(cams, HOST, start=start, end=end)] == want
    after = [s.seq for s in every if s.end > T0 + timedelta(seconds=500)]
    assert [
        s.seq for s in recording.list_segments(cams, HOST, start=T0 + timedelta(seconds=500))
    ] == after


def test_cli_lists_gaps_status_and_quarantine(cams: bootstrap.System, env: Env) -> None:
    recording.record_gap(
        cams, camera="cam2", start=T0, end=T0 + timedelta(seconds=5), reason="stalled"
    )
    recording.set_status(cams, "cam2", state="offline", since=T0, last_error="stalled")
    recording.record_quarantine(
        cams,
        camera="cam2",
        filename="r-00000001.mp4",
        path="quarantine/cam2/r-00000001.mp4",
        reason="unreadable segment: moov atom not found",
        size=10,
        sha256="ab" * 32,
    )
    [gap] = json.loads(env.ok("gaps", "list", "--json").output)
    assert (gap["camera"], gap["reason"]) == ("cam2", "stalled")
    assert "stalled" in env.ok("gaps", "list", "--camera", "cam2").output
    status = {s["camera"]: s for s in json.loads(env.ok("cameras", "status", "--json").output)}
    assert status["cam2"]["state"] == "offline"
    assert status["cam1"]["state"] == "never recorded"
    assert "offline" in env.ok("cameras", "status").output
    [q] = json.loads(env.ok("segments", "quarantined", "--json").output)
    assert q["reason"].endswith("moov atom not found")


def test_events_are_kept_in_order(cams: bootstrap.System) -> None:
    recording.record_event(cams, camera="cam1", kind="warning", message="audio transcoded")
    recording.record_event(cams, camera=None, kind="clock_jump", message="+3.0 s")
    assert [e.kind for e in recording.list_events(cams)] == ["warning", "clock_jump"]
    assert [e.message for e in recording.list_events(cams, kind="clock_jump")] == ["+3.0 s"]
    assert [e.kind for e in recording.list_events(cams, camera="cam1")] == ["warning"]


def _age_status(system: bootstrap.System, camera: str, seconds: float) -> None:
    """As if the recorder last touched ``camera``'s status ``seconds`` ago (then died)."""
    with system.sessions.begin() as s:
        row = s.get(m.CameraStatus, camera)
        assert row is not None
        row.updated_at = system.clock.now() - timedelta(seconds=seconds)


def test_a_status_no_recorder_keeps_fresh_is_recorder_down(
    cams: bootstrap.System, env: Env
) -> None:
    """Issue 19, found item 5: `cameras status` said `recording` after the recorder died."""
    now = cams.clock.now()
    recording.set_status(cams, "cam1", state="recording", since=now, last_segment_at=now)
    recording.set_status(cams, "cam2", state="stopped", since=now)
    assert recording.get_status(cams, "cam1").state == "recording"  # type: ignore[union-attr]
    _age_status(cams, "cam1", recording.STALE_AFTER_S + 5)
    _age_status(cams, "cam2", recording.STALE_AFTER_S + 5)
    down = recording.get_status(cams, "cam1")
    assert down is not None and down.state == "recorder_down"
    assert down.last_error is not None and "it last said: recording" in down.last_error
    # A recorder that stopped cleanly said so: that stays true however old it is.
    assert recording.get_status(cams, "cam2").state == "stopped"  # type: ignore[union-attr]
    status = {s["camera"]: s for s in json.loads(env.ok("cameras", "status", "--json").output)}
    assert status["cam1"]["state"] == "recorder_down"
    # The heartbeat of a running recorder keeps it honest the other way round.
    recording.heartbeat(cams, ["cam1"])
    assert recording.get_status(cams, "cam1").state == "recording"  # type: ignore[union-attr]
