"""End to end: an HTTP MJPEG camera is recorded into Matroska segments (MJPEG cannot go
into MP4; it is copied, not transcoded, with a recorded warning), sealed and verified."""

from __future__ import annotations

import json

import pytest

from oversight import bootstrap
from oversight.recorder.probe import probe_segment
from oversight.services import recording
from oversight.sim.http_mjpeg import HttpMjpegCamera
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import accounted_share, add_camera, boundary_offsets, needs_ffmpeg

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),
]


def test_an_http_mjpeg_camera_is_recorded_copied_and_verified(
    system: bootstrap.System, env: Env
) -> None:
    with HttpMjpegCamera() as cam:
        add_camera(system, "web1", cam.url)
        env.ok("record", "--duration", "12", "--segment-seconds", "3")
    segments = recording.list_segments(system, HOST, camera="web1")
    assert len(segments) >= 2
    first = system.settings.store_dir / segments[0].storage_key
    assert first.suffix == ".mkv"
    assert probe_segment(first).video_codec == "mjpeg"
    events = recording.list_events(system, camera="web1")
    assert any("Matroska" in e.message for e in events)
    assert json.loads(env.ok("verify", "--json").output)["ok"]


def test_mjpeg_segments_account_for_the_wall_time_recorded(
    system: bootstrap.System, env: Env
) -> None:
    """Issue 19, found item 6: MJPEG segments were indexed a frame's fraction short,
    leaving a hole before each next one, with no gap."""
    with HttpMjpegCamera(fps=10) as cam:
        add_camera(system, "web1", cam.url)
        env.ok("record", "--duration", "14", "--segment-seconds", "3")
    segments = recording.list_segments(system, HOST, camera="web1")
    assert len(segments) >= 3
    for seg in segments:
        packets = probe_segment(system.settings.store_dir / seg.storage_key).packets
        assert packets / (seg.end - seg.start).total_seconds() > 8.5  # the rate asked for
    gaps = recording.list_gaps(system, HOST, "web1")
    # The fault was a hole of most of a frame at every cut. A loaded host delays frames
    # by a few tens of ms, which may overlap the next segment's first frame's arrival:
    # within two frame spacings (0.2 s at 10 fps) either way, and no hole overall.
    offsets = boundary_offsets(segments, gaps)
    assert all(abs(o) <= 0.2 for o in offsets), offsets
    assert accounted_share(segments, gaps) >= 0.99, offsets
