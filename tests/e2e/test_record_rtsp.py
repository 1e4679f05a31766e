"""End to end: three simulated cameras over real RTSP, recorded by ``oversight record``
for 30 s; every segment sealed, indexed, in the ledger, and ``oversight verify`` passes."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from oversight import bootstrap
from oversight.ledger.leaves import decode
from oversight.services import recording
from oversight.services.sealing import file_sha256
from oversight.sim.cameras import SimulatedCameraSet
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera, needs_ffmpeg

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite: the heaviest test runs once
]

SECONDS = 30
SEGMENT = 5


def test_three_rtsp_cameras_are_recorded_sealed_and_verified(
    system: bootstrap.System, env: Env
) -> None:
    with (
        RelayThread(credentials=("op", "cam-pass-77")) as relay,
        SimulatedCameraSet(3, relay=relay, width=320, height=180) as cams,
    ):
        for i, url in enumerate(cams.urls, start=1):
            add_camera(system, f"cam{i}", url)
        out = env.ok("record", "--duration", str(SECONDS), "--segment-seconds", str(SEGMENT))
    assert "cam-pass-77" not in out.output

    found = recording.list_segments(system, HOST)
    per_camera = Counter(s.camera for s in found)
    assert set(per_camera) == {"cam1", "cam2", "cam3"}
    for camera, count in per_camera.items():
        assert count >= SECONDS // SEGMENT - 1, f"{camera}: only {count} segments"
        mine = [s for s in found if s.camera == camera]
        assert [s.seq for s in mine] == list(range(1, count + 1))
        covered = sum((s.end - s.start).total_seconds() for s in mine)
        assert covered >= SECONDS - 2 * SEGMENT, f"{camera}: {covered:.1f} s of footage"

    with system.sessions() as session:
        for seg in found:
            leaf = decode(system.ledger.leaf(session, seg.leaf_index).data)
            assert leaf["type"] == "segment_sealed"
            assert (leaf["camera"], leaf["seq"], leaf["sha256"]) == (
                seg.camera,
                seg.seq,
                seg.sha256,
            )
            assert leaf["storage_key"] == seg.storage_key
    for seg in found:
        stored = system.store.path(seg.storage_key)  # type: ignore[attr-defined]
        assert file_sha256(stored) == (seg.sha256, seg.size)

    assert recording.list_gaps(system, HOST) == []
    assert recording.list_quarantined(system) == []
    statuses = json.loads(env.ok("cameras", "status", "--json").output)
    assert {s["state"] for s in statuses} == {"stopped"}
    listed = json.loads(env.ok("segments", "list", "--camera", "cam2", "--json").output)
    assert len(listed) == per_camera["cam2"]
    env.ok("verify")
