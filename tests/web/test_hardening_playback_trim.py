"""The keyframe-inward cut of finding 2, pure (``media/trim.py``): the window over
fragments as a table of cases, the cut of a real ffmpeg segment against ffprobe's own
packet times, and damaged files refused with InvalidInput, never another error."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oversight.errors import InvalidInput
from oversight.media import trim
from oversight.media.ffmpeg import run_tool
from tests.web.test_hardening_playback import _record

F = Fraction


def _fragment(
    start: int, video: tuple[str, str], audio: tuple[str, str], key: bool = True
) -> trim.Fragment:
    times = {1: (F(video[0]), F(video[1])), 2: (F(audio[0]), F(audio[1]))}
    return trim.Fragment(start, start + 10, times, key)


FRAGMENTS = [
    _fragment(0, ("0", "1"), ("0", "1.02")),
    _fragment(10, ("1", "2"), ("1.02", "1.98")),
    _fragment(20, ("2", "3"), ("1.98", "3.01"), key=False),
    _fragment(30, ("3", "4"), ("3.01", "4")),
]


@pytest.mark.parametrize(
    ("lo", "hi", "starts"),
    [
        ("0", "4", [0, 10, 20, 30]),  # all of it
        ("0", "3", [0, 10]),  # the third's audio ends after 3
        ("0", "3.01", [0, 10, 20]),
        ("0.5", "4", [10, 20, 30]),  # inward from the start
        ("1.5", "4", [30]),  # the fragment at 2 starts with no keyframe: not a start
        ("1.0", "1.99", []),  # no whole fragment inside
        ("-5", "100", [0, 10, 20, 30]),  # a range wider than the segment
        ("5", "6", []),  # after the segment
    ],
)
def test_the_window_is_whole_fragments_inside_the_range(
    lo: str, hi: str, starts: list[int]
) -> None:
    assert [f.start for f in trim.window(FRAGMENTS, F(lo), F(hi))] == starts


@pytest.fixture(scope="module")
def segment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _record(tmp_path_factory.mktemp("trim"))[0]


def _packets(path: Path) -> list[tuple[float, float]]:
    argv = ["ffprobe", "-v", "error", "-show_entries", "packet=pts_time,duration_time"]
    out = run_tool([*argv, "-of", "json", f"file:{path}"], timeout=60)
    assert out.returncode == 0, out.stderr
    return [
        (float(p["pts_time"]), float(p["duration_time"])) for p in json.loads(out.stdout)["packets"]
    ]


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    ("lo", "hi"), [("0", "10"), ("0.05", "0.95"), ("4.3", "7.7"), ("9.5", "12")]
)
def test_a_cut_of_a_real_segment_holds_only_packets_inside_the_range(
    segment: Path, tmp_path: Path, lo: str, hi: str
) -> None:
    data = segment.read_bytes()
    with segment.open("rb") as f:
        cut = trim.cut(f, len(data), F(lo), F(hi))
    assert cut.media is not None
    out = tmp_path / "cut.mp4"
    out.write_bytes(data[slice(*cut.init)] + data[slice(*cut.media)])
    packets = _packets(out)
    assert packets
    for at, length in packets:
        assert float(lo) - 1e-6 <= at and at + length <= float(hi) + 1e-6, (at, length)
    # Inward by at most a group of pictures (0.2 s) and an audio frame (0.128 s).
    assert min(at for at, _ in packets) <= max(float(lo), 0) + 0.2 + 0.128 + 1e-6
    assert max(at + n for at, n in packets) >= min(float(hi), 10) - 0.2 - 0.128 - 1e-6


@pytest.mark.ffmpeg
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    at=st.integers(min_value=0, max_value=1 << 16),
    value=st.integers(0, 255),
    count=st.integers(1, 8),
)
def test_a_damaged_segment_is_refused_or_cut_never_a_crash(
    segment: Path, at: int, value: int, count: int
) -> None:
    data = bytearray(segment.read_bytes())
    for i in range(count):  # damage the boxes near the start: moov and the first moofs
        data[(at + 97 * i) % min(len(data), 1 << 16)] = value
    try:
        cut = trim.cut(io.BytesIO(bytes(data)), len(data), F(1), F(3))
    except InvalidInput:
        return
    if cut.media is not None:
        lo, hi = cut.media
        assert cut.init[1] <= lo < hi <= len(data)
