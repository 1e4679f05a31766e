"""ffprobe of finished segments and of sources: good, truncated, corrupt, missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oversight.errors import InvalidInput
from oversight.recorder.probe import parse_segment_probe, parse_source_probe, probe_segment
from tests.recorder.helpers import make_clip, needs_ffmpeg

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=4.0)


def test_a_good_segment_has_its_duration_and_codecs(clip: Path) -> None:
    found = probe_segment(clip)
    assert found.duration == pytest.approx(4.0, abs=0.2)
    assert (found.video_codec, found.audio_codec) == ("h264", "aac")
    assert found.packets == 60 and not found.truncated


def test_a_silent_segment_has_no_audio_codec(tmp_path: Path) -> None:
    found = probe_segment(make_clip(tmp_path / "silent.mp4", seconds=1.0, audio=None))
    assert found.audio_codec is None


def test_a_truncated_fragmented_segment_is_readable_up_to_its_last_whole_fragment(
    clip: Path, tmp_path: Path
) -> None:
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    found = probe_segment(cut)
    # Duration comes from the packets that are there, not from the fragment headers.
    assert 1.0 <= found.duration < 3.0
    assert found.truncated


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:300],  # killed before the header was complete
        lambda data: b"\x00" * 4096,
        lambda data: b"not a video at all",
    ],
)
def test_a_corrupt_segment_raises_a_clear_error(clip: Path, tmp_path: Path, damage: object) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(damage(clip.read_bytes()))  # type: ignore[operator]
    with pytest.raises(InvalidInput, match="unreadable segment"):
        probe_segment(bad)


def test_a_missing_segment_raises(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        probe_segment(tmp_path / "nope.mp4")


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        ('{"streams": [{"index": 0, "codec_type": "audio", "codec_name": "aac"}]}', "no video"),
        (
            '{"streams": [{"index": 0, "codec_type": "video", "codec_name": "h264"}]}',
            "no video packets",
        ),
        ("[1, 2]", "no readable JSON"),
        ("{", "no readable JSON"),
    ],
)
def test_parse_segment_probe_refuses_what_is_not_footage(stdout: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_segment_probe(0, stdout, "")


def test_parse_source_probe() -> None:
    out = (
        '{"streams": [{"codec_type": "video", "codec_name": "hevc"},'
        ' {"codec_type": "audio", "codec_name": "pcm_alaw"}]}'
    )
    info = parse_source_probe(0, out, "")
    assert (info.video_codec, info.audio_codec) == ("hevc", "pcm_alaw")
    with pytest.raises(InvalidInput, match=r"source unavailable: .*Connection refused"):
        parse_source_probe(1, "", "rtsp://u:***@h/x: Connection refused\n")


def test_the_last_frame_lasts_the_frames_spacing_not_a_declared_guess() -> None:
    """Issue 19, found item 6: MJPEG in Matroska declares 40 ms per frame for frames
    100 ms apart, so each segment was indexed 60 ms short, leaving a hole."""
    packets = [
        {"stream_index": 0, "pts_time": f"{i / 10:.3f}", "duration_time": "0.040000"}
        for i in range(30)
    ]
    out = json.dumps(
        {"streams": [{"index": 0, "codec_type": "video", "codec_name": "mjpeg"}],
         "packets": packets}
    )  # fmt: skip
    assert parse_segment_probe(0, out, "").duration == pytest.approx(3.0)
