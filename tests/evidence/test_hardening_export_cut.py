"""Issue 18 (finding 2, export side), the parts around the cut: the clip timeline
(pure), the manifest's own consistency checks, and Matroska segments, which cannot be
cut at keyframes (real ffmpeg)."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oversight.errors import InvalidInput
from oversight.evidence import clips
from oversight.evidence import manifest as mf
from oversight.evidence.clips import SegmentSpan, Taken
from tests.evidence.helpers import T0
from tests.evidence.test_manifest import _minimal
from tests.recorder.helpers import make_clip, needs_ffmpeg


def at(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _taken(start: float, end: float, seg: float) -> Taken:
    span = SegmentSpan(Path(f"/s/{seg}.mp4"), T0 + at(seg), T0 + at(seg + 6))
    return Taken(span, T0 + at(start), T0 + at(end), ((0, 1), (1, 2)), 0)


# ---- the timeline ------------------------------------------------------------------------


def test_a_gap_between_segments_stays_a_gap_in_the_clip() -> None:
    cut = clips.lay_out([_taken(3.2, 5.9, 0), _taken(7.0, 8.0, 7)])  # 1.1 s unrecorded
    assert [p.offset_us for p in cut.pieces] == [0, 3_800_000]
    assert [p.duration_us for p in cut.pieces] == [3_800_000, 1_000_000]
    assert (cut.start, cut.end) == (T0 + at(3.2), T0 + at(8.0))


def test_overlapping_segments_play_one_after_the_other() -> None:
    # The first file runs 0.128 s past the next segment's sealed start (an audio frame).
    cut = clips.lay_out([_taken(3.2, 6.128, 0), _taken(6.0, 8.0, 6)])
    assert [p.offset_us for p in cut.pieces] == [0, 2_928_000]
    assert cut.end == T0 + at(8.0)


def test_the_concat_list_starts_each_cut_file_at_its_first_sample() -> None:
    cut = clips.lay_out([_taken(3.2, 5.9, 0)])
    [piece] = clips.concat_pieces(cut, [Path("/tmp/piece-0.mp4")])
    assert clips.concat_list([piece]) == (
        "ffconcat version 1.0\nfile '/tmp/piece-0.mp4'\ninpoint 0.000000\nduration 2.700000\n"
    )


# ---- the manifest ------------------------------------------------------------------------


def _with_cut(**clip: Any) -> dict[str, Any]:
    data = _minimal()
    entry = data["clips"][0]
    entry["start"], entry["end"] = "2024-05-01T08:00:01.200000Z", "2024-05-01T08:00:04.900000Z"
    entry["requested"] = {"start": "2024-05-01T08:00:01.000000Z", "end": entry["end"]}
    entry["cut"] = "keyframes-inward"
    entry["pieces"] = [
        {
            "source": entry["source_segments"][0],
            "start": entry["start"],
            "end": entry["end"],
            "offset_us": 0,
        }
    ]
    entry.update(clip)
    return data


def test_a_manifest_with_the_cut_round_trips_and_an_older_one_is_unchanged() -> None:
    data = _with_cut()
    assert mf.load(mf.canonical(data)).clips[0].cut == "keyframes-inward"
    older = mf.canonical(_minimal())
    assert mf.dump(mf.load(older)) == older  # no null keys added to an older package


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "2024-05-01T08:00:00.900000Z"}, "outside the range it was cut from"),
        ({"end": "2024-05-01T08:00:05.000000Z"}, "outside the range it was cut from"),
        ({"cut": "keyframe-before"}, "keyframes-inward"),
    ],
)
def test_a_clip_outside_its_requested_range_is_malformed(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        mf.validate(_with_cut(**change))


def test_a_piece_outside_its_clip_or_of_another_segment_is_malformed() -> None:
    data = _with_cut()
    outside = copy.deepcopy(data)
    outside["clips"][0]["pieces"][0]["start"] = "2024-05-01T08:00:01.100000Z"
    with pytest.raises(InvalidInput, match="lies outside the clip"):
        mf.validate(outside)
    other = copy.deepcopy(data)
    other["clips"][0]["pieces"][0]["source"] = "cam9/elsewhere.mp4"
    with pytest.raises(InvalidInput, match="not a source of the clip"):
        mf.validate(other)


# ---- Matroska: whole or not at all ----------------------------------------------------


@pytest.mark.ffmpeg
@needs_ffmpeg
def test_a_matroska_segment_is_exported_whole_or_refused(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "seg.mkv", seconds=4, video="mjpeg", audio=None)
    span = SegmentSpan(path, T0, T0 + at(4))
    whole = tmp_path / "whole.mkv"
    cut = clips.cut_clip([span], T0 - at(1), T0 + at(5), whole)
    assert (cut.start, cut.end) == (T0, T0 + at(4)) and whole.stat().st_size > 0
    part = tmp_path / "part.mkv"
    with pytest.raises(InvalidInput, match=r"not fragmented MP4.*covers only part of it"):
        clips.cut_clip([span], T0 + at(1), T0 + at(3), part, label="camera cam3")
    assert not part.exists()
