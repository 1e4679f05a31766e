"""The supervisor against simulated cameras over real RTSP on 127.0.0.1: a killed
ffmpeg, a stalled source, H.265 with G.711 audio, and a recorder killed with kill -9.
SQLite only (the services below run on both databases elsewhere)."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.recorder import sealer
from oversight.recorder.probe import probe_segment
from oversight.services import recording
from oversight.services.sealing import file_sha256
from oversight.sim.cameras import SimulatedCamera, _ffmpeg_lists
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera, needs_ffmpeg, supervising, wait_for

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),  # SQLite only
]

PASSWORD = "pw-Sekr1t-42"


@pytest.fixture
def relay() -> Iterator[RelayThread]:
    with RelayThread(credentials=("viewer", PASSWORD)) as running:
        yield running


@pytest.fixture
def camera(relay: RelayThread, system: bootstrap.System) -> Iterator[SimulatedCamera]:
    url = relay.url("cam1", with_credentials=True)
    assert PASSWORD in url
    with SimulatedCamera(url, width=320, height=180) as cam:
        add_camera(system, "cam1", url)
        yield cam


def segments(system: bootstrap.System, camera: str = "cam1") -> list[recording.SegmentRec]:
    return recording.list_segments(system, HOST, camera=camera)


def assert_no_secret(system: bootstrap.System) -> None:
    texts = [g.reason for g in recording.list_gaps(system, HOST)]
    texts += [s.last_error or "" for s in recording.list_status(system, HOST)]
    texts += [e.message for e in recording.list_events(system)]
    assert not [t for t in texts if PASSWORD in t]


def test_kill_9_of_a_cameras_ffmpeg_records_a_gap_and_recording_resumes(
    system: bootstrap.System, camera: SimulatedCamera
) -> None:
    with supervising(system, backoff_base=0.5) as sup:
        wait_for("a first segment", lambda: segments(system))
        pid = sup.pids()["cam1"]
        os.kill(pid, signal.SIGKILL)
        [gap] = wait_for("a gap", lambda: recording.list_gaps(system, HOST, "cam1"))
        assert gap.reason.startswith("ffmpeg exited with code -9")
        assert 0 < (gap.end - gap.start).total_seconds() < 10
        wait_for(
            "a segment after the gap", lambda: [s for s in segments(system) if s.start >= gap.end]
        )
        assert sup.pids()["cam1"] != pid
        assert sup.snapshot()[0].restarts == 1
    found = segments(system)
    assert [s.seq for s in found] == list(range(1, len(found) + 1))
    assert_no_secret(system)


def test_a_stalled_source_is_restarted_and_its_outage_is_a_gap(
    system: bootstrap.System, camera: SimulatedCamera
) -> None:
    # A long input timeout, so that the supervisor's own stall detector acts first.
    options = {
        "input_timeout": 30.0,
        "stall_timeout": 4.0,
        "stop_timeout": 2.0,
        "backoff_base": 0.5,
    }
    with supervising(system, **options):
        wait_for("a first segment", lambda: segments(system))
        camera.pause()  # SIGSTOP: the connection stays open, no packets come
        wait_for(
            "the stall to be noticed",
            lambda: (
                (s := recording.get_status(system, "cam1"))
                and s.last_error is not None
                and s.last_error.startswith("stalled")
            ),
        )
        camera.resume()
        [gap] = wait_for("a gap", lambda: recording.list_gaps(system, HOST, "cam1"))
        assert gap.reason.startswith("stalled: no segment for")
        wait_for(
            "a segment after the gap", lambda: [s for s in segments(system) if s.start >= gap.end]
        )
    assert_no_secret(system)


def test_h265_with_g711_audio_is_recorded_with_its_video_intact(
    system: bootstrap.System, relay: RelayThread, tmp_path: Path
) -> None:
    if " libx265 " not in _ffmpeg_lists("ffmpeg", "-encoders"):
        pytest.skip("ffmpeg has no libx265")
    url = relay.url("hevc", with_credentials=True)
    with SimulatedCamera(url, width=320, height=180, codec="h265", audio="pcma"):
        add_camera(system, "hevc", url)
        with supervising(system):
            wait_for("two segments", lambda: len(segments(system, "hevc")) >= 2)
    [warning] = recording.list_events(system, camera="hevc", kind="warning")
    assert "pcm_alaw" in warning.message and "transcoded to AAC" in warning.message
    durations = []
    for seg in segments(system, "hevc"):
        copy = tmp_path / f"{seg.seq}.mp4"
        with system.store.open(seg.storage_key) as src:
            copy.write_bytes(src.read())
        found = probe_segment(copy)
        assert (found.video_codec, found.audio_codec) == ("hevc", "aac")
        assert found.duration > 0 and not found.truncated
        durations.append(found.duration)
    # The last one may be short: the stop seals whatever the open segment holds.
    assert max(durations) > 0.5
    assert recording.list_quarantined(system) == []


def test_kill_9_of_the_whole_recorder_loses_and_duplicates_nothing(
    system: bootstrap.System, camera: SimulatedCamera, env: Env
) -> None:
    argv = [sys.executable, "-m", "oversight.cli.main", "record", "--segment-seconds", "2"]
    log = env.data_dir.parent / "recorder.log"
    with log.open("wb") as out:
        recorder = subprocess.Popen(argv, stdout=out, stderr=out, start_new_session=True)
        try:
            wait_for("three sealed segments", lambda: len(segments(system)) >= 3, timeout=60)
            # Mid-segment: the recorder and its ffmpeg die together, as on a power cut.
            wait_for("a partial segment", lambda: _partial(system))
            os.killpg(recorder.pid, signal.SIGKILL)
        finally:
            if recorder.poll() is None:
                os.killpg(recorder.pid, signal.SIGKILL)
            recorder.wait(timeout=30)
    before = {s.sha256 for s in segments(system)}
    left = {p.name: file_sha256(p)[0] for p in sealer.leftovers(sealer.spool_dir(system, "cam1"))}
    assert left, "the kill left no partial segment to recover"
    # Restart; once it records again, stop it with SIGTERM: it seals its open segment.
    with log.open("ab") as out:
        restarted = subprocess.Popen(argv, stdout=out, stderr=out)
        try:
            wait_for(
                "recording to resume",
                lambda: [
                    g
                    for g in recording.list_gaps(system, HOST, "cam1")
                    if "not running" in g.reason
                ],
                timeout=60,
            )
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(timeout=30) == 0
        finally:
            if restarted.poll() is None:
                restarted.kill()
                restarted.wait()
    after = segments(system)
    shas = [s.sha256 for s in after]
    assert len(shas) == len(set(shas)), "a segment was sealed twice"
    assert before <= set(shas)
    quarantined = {q.filename: q for q in recording.list_quarantined(system, "cam1")}
    for name, digest in left.items():
        assert digest in shas or name in quarantined, f"{name} was lost"
        if name in quarantined:
            assert quarantined[name].reason
    # The partial one holds whole fragments: it is sealed, not quarantined.
    assert left[max(left)] in shas
    assert sealer.leftovers(sealer.spool_dir(system, "cam1")) == []
    [gap] = [g for g in recording.list_gaps(system, HOST, "cam1") if "not running" in g.reason]
    assert "crash or kill" in gap.reason
    status = json.loads(env.ok("cameras", "status", "--json").output)
    assert status[0]["state"] == "stopped"
    logs = log.read_text()
    assert "SIGTERM: stopping" in logs
    assert PASSWORD not in logs and PASSWORD not in json.dumps(status)
    assert_no_secret(system)


def _partial(system: bootstrap.System) -> bool:
    """Whether the open spool segment already holds a whole fragment of footage (a
    ``moof`` and its ``mdat`` entirely on disk). A size threshold is not enough: ffmpeg
    writes a fragment in buffer-sized pieces, and a kill between them leaves none whole."""
    files = sealer.leftovers(sealer.spool_dir(system, "cam1"))
    return bool(files) and _whole_fragments(files[-1]) >= 1


def _whole_fragments(path: Path) -> int:
    """The number of complete top-level ``moof`` + ``mdat`` pairs at the file's start."""
    data = path.read_bytes()
    offset, fragments, after_moof = 0, 0, False
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        if size < 8 or offset + size > len(data):
            break  # the box being written
        if kind == b"mdat" and after_moof:
            fragments += 1
        after_moof = kind == b"moof"
        offset += size
    return fragments
