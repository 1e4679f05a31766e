"""The supervisor on file sources (replayed in real time): the loop, gaps on restart,
registry changes, the disk guard and clock jumps. SQLite only: the services it calls
run on both databases in test_recording_services.py."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oversight import bootstrap
from oversight.clock import SystemClock
from oversight.ledger.leaves import decode
from oversight.recorder import sealer
from oversight.services import alarms, ledger, recording
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera, make_clip, needs_ffmpeg, supervising, wait_for

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite only
]


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> str:
    clip = make_clip(tmp_path_factory.mktemp("media") / "replay.mp4", seconds=6.0)
    return clip.as_uri()


def sealed(system: bootstrap.System, camera: str, at_least: int) -> list[recording.SegmentRec]:
    return wait_for(
        f"{at_least} sealed segments of {camera}",
        lambda: (
            [
                s
                for s in [recording.list_segments(system, HOST, camera=camera)]
                if len(s) >= at_least
            ]
            and recording.list_segments(system, HOST, camera=camera)
        ),
    )


def test_a_camera_is_recorded_and_stop_seals_the_open_segment(
    system: bootstrap.System, replay: str
) -> None:
    add_camera(system, "cam1", replay)
    with supervising(system) as sup:
        first = sealed(system, "cam1", 2)
        assert recording.get_status(system, "cam1").state == "recording"  # type: ignore[union-attr]
        # Progress is stored once per loop step (a burst of segments, one write).
        wait_for(
            "the status to show the sealed footage",
            lambda: (
                (s := recording.get_status(system, "cam1")) is not None
                and s.last_segment_at is not None
                and s.last_segment_at >= first[1].end
            ),
        )
        before_stop = len(recording.list_segments(system, HOST, camera="cam1"))
    after = recording.list_segments(system, HOST, camera="cam1")
    assert len(after) >= before_stop + 1  # the open segment was finished and sealed
    assert [s.seq for s in after] == list(range(1, len(after) + 1))
    for seg in after:
        assert 0.5 < (seg.end - seg.start).total_seconds() < 4.5
        assert system.store.size(seg.storage_key) == seg.size
    assert sealer.leftovers(sealer.spool_dir(system, "cam1")) == []
    assert recording.list_gaps(system, HOST) == []  # first recording: nothing was missed
    status = recording.get_status(system, "cam1")
    assert status is not None and status.state == "stopped"
    assert sup.snapshot()[0].segments == len(after)


def test_a_restarted_recorder_records_the_time_it_was_not_running_as_a_gap(
    system: bootstrap.System, replay: str
) -> None:
    add_camera(system, "cam1", replay)
    with supervising(system):
        sealed(system, "cam1", 1)
    last_end = recording.list_segments(system, HOST, camera="cam1")[-1].end
    time.sleep(1.0)
    with supervising(system):
        gap = wait_for("a gap", lambda: recording.list_gaps(system, HOST, "cam1"))
    [gap] = recording.list_gaps(system, HOST, "cam1")
    assert gap.start == last_end
    assert gap.reason == "recorder was not running"
    first_after = [
        s for s in recording.list_segments(system, HOST, camera="cam1") if s.start >= gap.end
    ]
    assert first_after and first_after[0].start == gap.end


def test_cameras_added_and_removed_in_the_registry_are_picked_up(
    system: bootstrap.System, replay: str, env: Env
) -> None:
    with supervising(system) as sup:
        assert sup.snapshot() == []
        add_camera(system, "cam1", replay)
        sealed(system, "cam1", 1)
        today = system.packs.local_date(system.clock.now()).isoformat()
        env.ok("cameras", "remove", "cam1", "--date", today)
        wait_for("cam1 to be retired", lambda: sup.snapshot() == [] or None)
        status = recording.get_status(system, "cam1")
        assert status is not None and status.state == "stopped"
        assert status.last_error == "removed from the registry"
    assert sealer.leftovers(sealer.spool_dir(system, "cam1")) == []


def test_below_the_free_space_threshold_nothing_records_and_an_alarm_is_kept(
    system: bootstrap.System, replay: str
) -> None:
    add_camera(system, "cam1", replay)
    with supervising(system, min_free_bytes=1 << 62, disk_check_interval=0.2) as sup:
        wait_for(
            "disk_full status",
            lambda: (s := recording.get_status(system, "cam1")) and s.state == "disk_full",
        )
        time.sleep(1.0)
        assert sup.pids() == {}
        [alarm] = recording.list_events(system, kind="disk_full")
        assert "no footage deleted" in alarm.message
        sup.options = replace(sup.options, min_free_bytes=0)
        sealed(system, "cam1", 1)
        assert recording.list_events(system, kind="disk_ok")
    [gap] = recording.list_gaps(system, HOST, "cam1")
    assert gap.reason.startswith("disk full")


class JumpyClock(SystemClock):
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return super().now() + self.offset


@pytest.fixture
def jumpy(system: bootstrap.System) -> Iterator[JumpyClock]:
    clock = JumpyClock()
    # System is frozen; the supervisor under test holds this very object, so the test
    # swaps its clock in place and back.
    original = system.clock
    object.__setattr__(system, "clock", clock)
    yield clock
    object.__setattr__(system, "clock", original)


def _clock_leaves(system: bootstrap.System, action: str) -> list[dict[str, Any]]:
    views = ledger.list_leaves(system, HOST, limit=1000, kind="clock")
    found = [decode(v.data) for v in views if v.data is not None]
    return [leaf for leaf in found if leaf["action"] == action]


def test_a_wall_clock_jump_is_recorded_not_absorbed(
    system: bootstrap.System, jumpy: JumpyClock, tmp_path: Path
) -> None:
    add_camera(system, "cam1", make_clip(tmp_path / "src.mp4").as_uri())
    with supervising(system):
        sealed(system, "cam1", 1)
        jumpy.offset = timedelta(seconds=30)
        [event] = wait_for(
            "a clock_jump event", lambda: recording.list_events(system, kind="clock_jump")
        )
    assert "+30" in event.message
    # Issue 19: a host jump is a clock leaf and an alarm on every camera being recorded.
    [leaf] = _clock_leaves(system, "host.jump")
    assert leaf["details"]["direction"] == "forward"
    assert abs(leaf["details"]["jump_ms"] - 30_000) < 1000
    [alarm] = alarms.list_alarms(system, HOST, open_only=True)
    assert (alarm.camera, alarm.kind) == ("cam1", "clock_jump")


def test_the_host_clock_status_is_a_leaf_when_the_recorder_starts(
    system: bootstrap.System,
) -> None:
    with supervising(system):
        [leaf] = wait_for("a host.sync leaf", lambda: _clock_leaves(system, "host.sync"))
    details = leaf["details"]
    assert leaf["subject"] == f"host:{socket.gethostname()}"
    assert details["synchronised"] in ("yes", "no", "unknown")
    assert details["source"] and isinstance(details["max_error_us"], int)


def test_an_unreachable_source_backs_off_and_goes_offline(
    system: bootstrap.System, tmp_path: Path
) -> None:
    add_camera(system, "cam1", (tmp_path / "missing.mp4").as_uri())
    with supervising(system, backoff_base=0.2, backoff_max=0.5, offline_after=1.0) as sup:
        wait_for(
            "offline status",
            lambda: (s := recording.get_status(system, "cam1")) and s.state == "offline",
        )
        view = sup.snapshot()[0]
        assert view.restarts >= 2 and view.pid is None
        assert view.last_error is not None and "source unavailable" in view.last_error


def test_the_recorder_heartbeat_keeps_its_cameras_status_fresh(
    system: bootstrap.System, tmp_path: Path
) -> None:
    add_camera(system, "cam1", make_clip(tmp_path / "src.mp4").as_uri())
    with supervising(system):
        sealed(system, "cam1", 1)
        first = recording.get_status(system, "cam1")
        assert first is not None and first.updated_at is not None
        wait_for(
            "a heartbeat",
            lambda: (
                (s := recording.get_status(system, "cam1")) is not None
                and s.updated_at is not None
                and s.updated_at > first.updated_at  # type: ignore[operator]
            ),
            timeout=recording.HEARTBEAT_S * 3,
        )
