"""The live window (issue 22, item 1): a second output of the recording ffmpeg, HLS with
fMP4 parts in DATA_DIR/live/CAMERA, private, rolling, never sealed; the argv of it, and
a real recorder over real RTSP writing it next to its sealed segments."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.media.ffmpeg import (
    LIVE_PARTS,
    RecordPlan,
    SourceInfo,
    build_record_command,
)
from oversight.services import recording
from oversight.sim.cameras import SimulatedCamera
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.recorder.helpers import add_camera, needs_ffmpeg, supervising, wait_for

LIVE = Path("/data/live/cam1")


def plan(**changes: object) -> RecordPlan:
    base: dict[str, object] = {
        "camera": "cam1",
        "url": "rtsp://10.0.0.5/s",
        "spool_dir": Path("/data/spool/cam1"),
        "run_id": "r",
        "source": SourceInfo("h264", "aac"),
        "live_dir": LIVE,
    }
    base.update(changes)
    return RecordPlan(**base)  # type: ignore[arg-type]


def test_the_live_window_is_a_second_output_of_the_same_ffmpeg_copied_not_encoded() -> None:
    argv = build_record_command(plan()).argv
    assert argv.count("-i") == 1  # one process, one connection to the camera
    live = argv[argv.index("hls") - 1 :]
    first = argv[: argv.index("hls") - 6]
    assert first[-1] == "/data/spool/cam1/r-%08d.mp4"  # the recording output is unchanged
    assert argv[len(first) : len(first) + 5] == ["-map", "0:v:0", "-c:v", "copy", "-an"]
    assert live[:2] == ["-f", "hls"]
    assert "libx264" not in argv and argv.count("copy") == 3  # video x2, audio x1
    assert live[live.index("-hls_list_size") + 1] == str(LIVE_PARTS)
    assert "delete_segments" in live[live.index("-hls_flags") + 1]
    assert live[live.index("-hls_segment_type") + 1] == "fmp4"
    assert live[-1] == "/data/live/cam1/live.m3u8"


def test_no_live_window_when_off_or_for_video_a_browser_cannot_play() -> None:
    assert "hls" not in build_record_command(plan(live_dir=None)).argv
    assert "hls" not in build_record_command(plan(source=SourceInfo("mjpeg", None))).argv
    hevc = build_record_command(plan(source=SourceInfo("hevc", None))).argv
    assert hevc.count("hvc1") == 2  # both outputs tag H.265 the way players expect


@pytest.fixture
def camera(system: bootstrap.System) -> Iterator[None]:
    with RelayThread() as relay, SimulatedCamera(relay.url("cam1"), width=320, height=180):
        add_camera(system, "cam1", relay.url("cam1"))
        yield


def _parts(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("part-*.m4s"))


@pytest.mark.ffmpeg
@pytest.mark.slow
@needs_ffmpeg
@pytest.mark.parametrize("database_url", [None])
def test_the_recorder_writes_a_private_rolling_live_window_and_still_seals_segments(
    system: bootstrap.System, camera: None
) -> None:
    live = system.settings.live_root / "cam1"
    with supervising(system):
        wait_for("a live playlist", lambda: (live / "live.m3u8").exists(), timeout=30)
        assert stat.S_IMODE(live.stat().st_mode) == 0o700
        assert stat.S_IMODE(live.parent.stat().st_mode) == 0o700
        seen: set[str] = set()

        def rolled() -> bool:
            seen.update(_parts(live))
            return len(seen) > LIVE_PARTS + 1

        wait_for("the live window to roll", rolled, timeout=40)
        # Deleted as it rolls: never more than the playlist's parts (and one being written).
        assert len(_parts(live)) <= LIVE_PARTS + 2
        assert (live / "init.mp4").exists()
        wait_for("sealed segments", lambda: len(recording.list_segments(system, HOST)) >= 3)
    # Never sealed or indexed, and gone once its ffmpeg stopped.
    keys = [s.storage_key for s in recording.list_segments(system, HOST)]
    assert keys and not [k for k in keys if "live" in k or k.endswith(".m4s")]
    assert not live.exists()


@pytest.mark.ffmpeg
@pytest.mark.slow
@needs_ffmpeg
@pytest.mark.parametrize("database_url", [None])
def test_with_the_live_window_off_nothing_is_written_there(
    system: bootstrap.System, camera: None
) -> None:
    with supervising(system, live_window=False):
        wait_for("sealed segments", lambda: len(recording.list_segments(system, HOST)) >= 2)
        assert not (system.settings.live_root / "cam1").exists()
