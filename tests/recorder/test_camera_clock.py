"""Issue 19, found items 1 and 2: a camera whose clock (its RTP timestamps) jumps forward
an hour or back 30 s. Real RTSP on 127.0.0.1 through the simulator's relay, which moves
the timestamps on the wire (``RtspRelay.jump_clock``), and the real recorder (ffmpeg).
SQLite only: the services involved run on both databases elsewhere."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from oversight import bootstrap
from oversight.ledger.leaves import decode
from oversight.services import ledger, recording
from oversight.sim.cameras import SimulatedCamera
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.recorder.helpers import (
    accounted_share,
    add_camera,
    needs_ffmpeg,
    supervising,
    wait_for,
)

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite only
]

SEGMENT_S = 2
# Wall time a segment may be listed late by ffmpeg (it lists after the next keyframe).
SLACK = timedelta(seconds=0.5)


@pytest.fixture
def relay() -> Iterator[RelayThread]:
    with RelayThread() as running:
        yield running


@pytest.fixture
def camera(relay: RelayThread, system: bootstrap.System) -> Iterator[SimulatedCamera]:
    url = relay.url("cam1")
    with SimulatedCamera(url, width=320, height=180) as cam:
        add_camera(system, "cam1", url)
        yield cam


def segments(system: bootstrap.System) -> list[recording.SegmentRec]:
    return recording.list_segments(system, HOST, camera="cam1")


def clock_leaves(system: bootstrap.System) -> list[dict[str, Any]]:
    """The camera.jump leaves (the recorder also writes host.sync ones)."""
    views = ledger.list_leaves(system, HOST, limit=1000, kind="clock")
    found = [decode(v.data) for v in views if v.data is not None]
    return [leaf for leaf in found if leaf["action"] == "camera.jump"]


@pytest.mark.parametrize("jump", [3600.0, -30.0], ids=["forward-1h", "back-30s"])
def test_a_camera_clock_jump_is_a_leaf_and_never_bends_the_claimed_times(
    system: bootstrap.System, relay: RelayThread, camera: SimulatedCamera, jump: float
) -> None:
    with supervising(system, segment_seconds=SEGMENT_S):
        wait_for("two segments", lambda: len(segments(system)) >= 2, timeout=40)
        started = system.clock.now()
        first = segments(system)[0]
        relay.jump_clock("cam1", jump)
        time.sleep(5 * SEGMENT_S + 1)
    stopped = system.clock.now()
    found = segments(system)
    lengths = [(s.end - s.start).total_seconds() for s in found]
    # No segment claims time before the recording began or after it stopped.
    assert all(first.start <= s.start and s.end <= stopped + SLACK for s in found), found
    # Every segment after the jump keeps the configured length: none squashed to
    # milliseconds (jump back), none stretched to an hour (jump forward).
    after = [n for s, n in zip(found, lengths, strict=True) if s.start >= started][:-1]
    assert after and all(0.5 * SEGMENT_S <= n <= 2 * SEGMENT_S for n in after), lengths
    # No false gap: footage kept coming, and every moment is accounted for.
    assert recording.list_gaps(system, HOST, "cam1") == []
    assert 0.99 <= accounted_share(found, []) <= 1.01, lengths
    # The jump is a clock leaf: camera, size, direction, wall time.
    [leaf] = clock_leaves(system)
    details = leaf["details"]
    assert leaf["subject"] == "camera:cam1" and details["camera"] == "cam1"
    assert details["direction"] == ("forward" if jump > 0 else "backward")
    assert abs(details["jump_ms"] - jump * 1000) < 1500, details
    noticed = details["noticed"]
    assert started.isoformat()[:16] <= noticed.replace("Z", "+00:00")[:16]


def test_a_camera_clock_that_comes_back_into_step_is_a_second_leaf(
    system: bootstrap.System, relay: RelayThread, camera: SimulatedCamera
) -> None:
    with supervising(system, segment_seconds=SEGMENT_S):
        wait_for("two segments", lambda: len(segments(system)) >= 2, timeout=40)
        relay.jump_clock("cam1", 600)
        wait_for("the jump", lambda: clock_leaves(system), timeout=20)
        relay.jump_clock("cam1", -600)
        wait_for("the return", lambda: len(clock_leaves(system)) >= 2, timeout=30)
    jumps = [c["details"]["jump_ms"] for c in clock_leaves(system)]
    assert len(jumps) == 2 and abs(jumps[0] - 600_000) < 1500 and abs(jumps[1] + 600_000) < 1500
    assert recording.list_gaps(system, HOST, "cam1") == []


def test_a_gap_reason_names_the_cause_not_ffmpeg_warnings(
    system: bootstrap.System, relay: RelayThread, camera: SimulatedCamera
) -> None:
    """Issue 19, found item 7: a camera that answered 404 while the recorder restarted had
    a gap whose reason quoted ffmpeg's deprecation warnings instead."""
    with supervising(system, segment_seconds=SEGMENT_S, backoff_base=0.5):
        wait_for("two segments", lambda: len(segments(system)) >= 2, timeout=40)
        relay.drop("cam1")  # the camera goes: open connections close, new ones get 404
        wait_for(
            "a failed restart",
            lambda: (s := recording.get_status(system, "cam1")) and s.state == "reconnecting",
        )
        time.sleep(3)
        relay.restore("cam1")
        [gap] = wait_for("a gap", lambda: recording.list_gaps(system, HOST, "cam1"), timeout=40)
    assert gap.reason.startswith("the stream ended"), gap.reason
    assert "404" in gap.reason, gap.reason
    assert "deprecated" not in gap.reason and "Non-monotonous" not in gap.reason, gap.reason


def test_the_gap_of_a_camera_whose_first_probe_hangs_starts_when_the_recorder_tried(
    system: bootstrap.System,
) -> None:
    """Issue 19, found item 7: the gap began when the hung probe gave up, 13 s late."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # accepts connections (the kernel does) and never answers
    port = hung.getsockname()[1]
    add_camera(system, "cam1", f"rtsp://127.0.0.1:{port}/cam1")
    try:
        with supervising(system, segment_seconds=SEGMENT_S, input_timeout=3.0, backoff_base=0.5):
            tried = system.clock.now()
            wait_for(
                "the hung probe to fail",
                lambda: (s := recording.get_status(system, "cam1")) and s.state == "reconnecting",
            )
            failed = system.clock.now()
            hung.close()
            with (
                RelayThread(port=port) as relay,
                SimulatedCamera(relay.url("cam1"), width=320, height=180),
            ):
                [gap] = wait_for(
                    "a gap", lambda: recording.list_gaps(system, HOST, "cam1"), timeout=40
                )
    finally:
        hung.close()
    assert (failed - tried).total_seconds() >= 2.5  # the probe really hung
    assert abs((gap.start - tried).total_seconds()) < 1.0, (gap.start, tried, failed)
