"""Cutting clips from real H.264 segments with real ffmpeg: stream copy across two
segments, and re-encodes that burn a watermark and black out privacy masks."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from oversight.errors import InvalidInput
from oversight.evidence import clips
from oversight.evidence.clips import SegmentSpan
from oversight.recorder.probe import probe_segment
from tests.evidence.helpers import (
    HEIGHT,
    SEGMENT_SECONDS,
    T0,
    WIDTH,
    gray_frame,
    make_segments,
    packet_hashes,
    region,
)
from tests.recorder.helpers import needs_ffmpeg

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg]

SQUARE = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]


@pytest.fixture(scope="module")
def spans(tmp_path_factory: pytest.TempPathFactory) -> list[SegmentSpan]:
    tmp = tmp_path_factory.mktemp("segments")
    out = []
    for i, path in enumerate(make_segments(tmp, 2)):
        start = T0 + timedelta(seconds=i * SEGMENT_SECONDS)
        out.append(SegmentSpan(path, start, start + timedelta(seconds=SEGMENT_SECONDS)))
    return out


def at(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_stream_copy_across_two_segments(spans: list[SegmentSpan], tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    used = clips.cut_clip(spans, T0 + at(3), T0 + at(9), out)
    assert used.spans == spans
    assert T0 + at(3) <= used.start < used.end <= T0 + at(9)
    probe = probe_segment(out)
    assert probe.video_codec == "h264"
    assert probe.audio_codec == "aac"
    # Cut at keyframes inward (issue 18, finding 2): at most one GOP (1 s) less at each
    # edge, never more than the 6 s asked for.
    assert 3.9 <= probe.duration <= 6.0, probe.duration
    # Stream copy: every video packet is one of the recorded packets, byte for byte.
    recorded = set(packet_hashes(spans[0].path)) | set(packet_hashes(spans[1].path))
    assert set(packet_hashes(out)) <= recorded
    assert len(packet_hashes(out)) >= 4.5 * 15


def test_a_range_inside_one_segment_uses_only_it(spans: list[SegmentSpan], tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    assert clips.cut_clip(spans, T0 + at(7), T0 + at(10), out).spans == [spans[1]]
    assert 1.0 <= probe_segment(out).duration <= 3.0  # inward: never more than asked


def test_masks_and_watermark_reencode_and_black_out(
    spans: list[SegmentSpan], tmp_path: Path
) -> None:
    plain = tmp_path / "plain.mp4"
    clips.cut_clip(spans, T0 + at(1), T0 + at(4), plain)
    out = tmp_path / "masked.mp4"
    clips.cut_clip(
        spans, T0 + at(1), T0 + at(4), out, watermark="REQ-1: grant 'G-1'\n2024", masks=[SQUARE]
    )
    # A new encode: none of its packets is a recorded one.
    recorded = set(packet_hashes(spans[0].path))
    assert not set(packet_hashes(out)) & recorded
    assert probe_segment(out).video_codec == "h264"
    frame = gray_frame(out, 1.0, tmp_path)
    # Inside the masked square (a 2-pixel margin for the codec's edge blur): black.
    inside = region(frame, WIDTH // 4 + 2, HEIGHT // 4 + 2, 3 * WIDTH // 4 - 2, 3 * HEIGHT // 4 - 2)
    assert max(inside) <= 24, max(inside)
    before = gray_frame(plain, 1.0, tmp_path)
    assert sum(region(before, 100, 60, 220, 120)) / (120 * 60) > 60  # the test pattern was there
    outside = region(frame, 0, 0, WIDTH, HEIGHT // 4 - 2)
    assert sum(outside) / len(outside) > 60  # the rest is not masked
    # The watermark (bottom left) changed pixels the plain copy has.
    band_plain = region(before, 12, HEIGHT - 30, 150, HEIGHT - 12)
    band_marked = region(frame, 12, HEIGHT - 30, 150, HEIGHT - 12)
    assert (
        sum(abs(a - b) for a, b in zip(band_plain, band_marked, strict=True)) / len(band_plain) > 20
    )


def test_watermark_without_a_font_is_a_band(spans: list[SegmentSpan], tmp_path: Path) -> None:
    out = tmp_path / "band.mp4"
    clips.cut_clip(spans, T0 + at(1), T0 + at(3), out, watermark="R1", font=None)
    band = region(gray_frame(out, 0.5, tmp_path), 0, HEIGHT - HEIGHT // 10 + 2, WIDTH, HEIGHT)
    assert min(band) >= 150, min(band)


@pytest.mark.skipif(clips.find_font() is None, reason="no font installed")
def test_filter_paths_with_special_characters(spans: list[SegmentSpan], tmp_path: Path) -> None:
    odd = tmp_path / "it's, [odd]; a:b"
    odd.mkdir()
    font = clips.find_font()
    assert font is not None
    copied = odd / "font's.ttf"
    shutil.copyfile(font, copied)
    out = odd / "clip.mp4"
    # Three seconds: a one-second range holds no whole GOP (1 s) of this footage.
    clips.cut_clip(spans, T0 + at(1), T0 + at(4), out, watermark="x", font=copied)
    assert probe_segment(out).duration > 0.5


def test_existing_output_is_refused(spans: list[SegmentSpan], tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"keep")
    with pytest.raises(InvalidInput, match="exists"):
        clips.cut_clip(spans, T0 + at(1), T0 + at(2), out)
    assert out.read_bytes() == b"keep"


def test_ffmpeg_failure_leaves_no_file(spans: list[SegmentSpan], tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    span = SegmentSpan(broken, T0, T0 + at(6))
    out = tmp_path / "clip.mp4"
    with pytest.raises(InvalidInput, match="unreadable segment"):
        clips.cut_clip([span], T0 + at(1), T0 + at(2), out)
    with pytest.raises(InvalidInput, match="unreadable segment"):
        clips.cut_clip([span], T0 + at(1), T0 + at(2), out, masks=[SQUARE])
    with pytest.raises(InvalidInput, match=r"could not cut clip clip\.mp4"):
        clips.cut_clip(spans, T0 + at(1), T0 + at(4), out, masks=[SQUARE], ffmpeg="false")
    assert not out.exists()


def test_segments_of_another_codec_setup_still_concatenate(
    spans: list[SegmentSpan], tmp_path: Path
) -> None:
    other = make_segments(tmp_path / "other", 1, size="640x360")[0]
    mixed = [spans[0], SegmentSpan(other, spans[1].start, spans[1].end)]
    assert clips.codec_setup(spans[0].path) != clips.codec_setup(other)
    out = tmp_path / "mixed.mp4"
    clips.cut_clip(mixed, T0 + at(4), T0 + at(8), out)
    assert 2.0 <= probe_segment(out).duration <= 4.0  # inward: never more than asked
