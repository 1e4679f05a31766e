"""The in-process MP4 check that lets listed segments skip ffprobe, and the sealer's
use of it: whole files pass, truncated or foreign ones go to ffprobe (and quarantine)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.recorder import sealer
from oversight.recorder.mp4check import looks_complete
from tests.recorder.helpers import add_camera, make_clip, needs_ffmpeg

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg]


def test_whole_fragmented_mp4_passes_and_damage_fails(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "a.mp4", seconds=2)
    assert looks_complete(clip)
    data = clip.read_bytes()
    truncated = tmp_path / "t.mp4"
    truncated.write_bytes(data[: len(data) - 100])
    assert not looks_complete(truncated)
    padded = tmp_path / "p.mp4"
    padded.write_bytes(data + b"\x00\x00")
    assert not looks_complete(padded)
    junk = tmp_path / "j.mp4"
    junk.write_bytes(b"not an mp4 at all, just text")
    assert not looks_complete(junk)
    plain = make_clip(tmp_path / "plain.mp4", seconds=2, fragmented=False)
    assert not looks_complete(plain)  # no moof: not what the recorder writes


@pytest.mark.parametrize("database_url", [None])
def test_a_listed_segment_is_sealed_without_ffprobe_and_a_damaged_one_is_quarantined(
    system: bootstrap.System, tmp_path: Path
) -> None:
    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    end = datetime.now(UTC)
    good = make_clip(tmp_path / "good.mp4", seconds=2)
    outcome = sealer.seal_spool_file(
        system, camera="cam1", path=good, end=end, ffprobe="/nonexistent/ffprobe",
        listed_duration=2.0,
    )  # fmt: skip
    assert outcome.sealed is not None and outcome.probe is None
    assert outcome.start is not None and (end - outcome.start).total_seconds() == 2.0
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(make_clip(tmp_path / "src.mp4", seconds=2).read_bytes()[:-50])
    outcome = sealer.seal_spool_file(system, camera="cam1", path=bad, end=end, listed_duration=2.0)
    # Not trusted on the list's word: it went through ffprobe (which sealed or
    # quarantined it by what it could read).
    assert outcome.probe is not None or outcome.quarantined is not None
