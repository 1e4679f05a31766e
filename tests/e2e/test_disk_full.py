"""Disk full on a real small file system: the recorder stops opening segments below the
threshold, raises an alarm, records the gap, and deletes nothing; what was sealed stays
sealed and `oversight verify` passes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.config import Settings
from oversight.services import recording
from oversight.sim.cameras import SimulatedCamera
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera, needs_ffmpeg

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),
]


def test_the_recorder_stops_before_the_disk_is_full_and_deletes_nothing(
    env: Env, small_fs: Path
) -> None:
    data_dir = small_fs / "var"
    env.monkeypatch.setenv("OVERSIGHT_DATA_DIR", str(data_dir))
    env.ok("init")
    system = bootstrap.build(Settings())
    try:
        with RelayThread() as relay, SimulatedCamera(relay.url("cam1"), width=640, height=360):
            add_camera(system, "cam1", relay.url("cam1"))
            # Trip the guard once about 3 MB more have been written to this 24 MiB disk.
            threshold = shutil.disk_usage(small_fs).free - 3_000_000
            env.ok(
                "record", "--duration", "25", "--segment-seconds", "2",
                "--min-free-bytes", str(threshold),
            )  # fmt: skip
        sealed = recording.list_segments(system, HOST)
        assert sealed, "nothing was recorded before the disk filled"
        [alarm] = recording.list_events(system, kind="disk_full")
        assert "no footage deleted" in alarm.message
        assert any(
            g.reason.startswith("disk full") for g in recording.list_gaps(system, HOST, "cam1")
        )
        assert shutil.disk_usage(small_fs).free > 0
    finally:
        system.close()
    listed = json.loads(env.ok("ledger", "list", "--kind", "segment_deleted", "--json").output)
    assert listed == []
    report = json.loads(env.ok("verify", "--json").output)
    assert report["ok"] and report["segments_checked"] == len(sealed)
    findings = json.loads(env.ok("compliance", "report", "--format", "json").output)["findings"]
    [finding] = [f for f in findings if f["severity"] == "critical"]
    assert finding["article"] == "Art. 14(5)" and "is recording since" in finding["message"]
