"""classify on real keyframes: one scene made by ffmpeg, tampered with ffmpeg filters,
decoded by health/frames.py as in production (a keyframe every 2 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oversight.health.frames import read_keyframes
from oversight.health.tamper import TamperTracker, analyse, learn

pytestmark = pytest.mark.ffmpeg


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("untampered", set()),
        ("covered", {"covered"}),  # a black box over the whole frame
        ("defocused", {"defocused"}),  # boxblur
        ("moved", {"moved"}),  # the view shifted by a quarter of the frame
        ("too_dark", {"too_dark"}),  # curves down to 7 % of the light
        ("overexposed", {"overexposed"}),  # eq=brightness=0.9
    ],
)
def test_tampered_clips_raise_their_kind_only(
    ffmpeg_variants: dict[str, Path], variant: str, expected: set[str]
) -> None:
    reference = learn(read_keyframes(ffmpeg_variants["reference"]))
    frames = read_keyframes(ffmpeg_variants[variant])
    assert len(frames) == 4  # 8 s at a keyframe every 2 s
    per_frame = analyse(frames, reference)
    assert all({f.kind for f in findings} == expected for findings in per_frame), per_frame
    tracker = TamperTracker()
    raised = {e.kind for findings in per_frame for e in tracker.update(findings) if e.raised}
    assert raised == expected
