"""OVERSIGHT_RECORDER_MIN_FREE_BYTES is the disk guard's threshold when `record` is not
given --min-free-bytes: no disk has 2^60 free bytes, so the guard trips at once."""

from __future__ import annotations

import pytest

from oversight import bootstrap
from oversight.services import recording
from tests.conftest import Env
from tests.recorder.helpers import add_camera, needs_ffmpeg

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg, pytest.mark.parametrize("database_url", [None])]


def test_the_setting_sets_the_disk_guard_threshold(system: bootstrap.System, env: Env) -> None:
    add_camera(system, "cam1", "rtsp://127.0.0.1:9/never")
    env.monkeypatch.setenv("OVERSIGHT_RECORDER_MIN_FREE_BYTES", str(1 << 60))
    env.ok("record", "--duration", "2")
    [alarm] = recording.list_events(system, kind="disk_full")
    assert str(1 << 60) in alarm.message
