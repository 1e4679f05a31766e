"""classify on real keyframes: one scene made by ffmpeg, tampered with ffmpeg filters,
decoded by health/frames.py as in production (a keyframe every 2 s)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from oversight.health.frames import read_keyframes
from oversight.health.tamper import TamperTracker, analyse, learn
from oversight.sim.cameras import Picture, overlay_available, video_filters

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


def _simulated(path: Path, picture: Picture, start: int) -> Path:
    """10 s of what a simulated camera sends (its own -vf, clock overlay when drawtext
    works), keyframe every 2 s as the simulator sets it."""
    filters = video_filters(picture, 640, 360, overlay=overlay_available(), label="cam1")
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"]
    argv += ["-i", "testsrc2=size=640x360:rate=15", "-ss", str(start), "-t", "10"]
    argv += ["-vf", ",".join(filters) or "null", "-c:v", "libx264", "-preset", "ultrafast"]
    argv += ["-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(argv, check=True, timeout=60, capture_output=True)
    return path


def test_the_simulators_covered_and_blurred_pictures(tmp_path: Path) -> None:
    reference = learn(read_keyframes(_simulated(tmp_path / "ref.mp4", "normal", 0)))
    cases: list[tuple[Picture, list[str]]] = [
        ("normal", []),
        ("covered", ["covered"]),  # black, with the camera's clock on top
        ("blurred", ["defocused"]),
    ]
    for picture, expected in cases:
        frames = read_keyframes(_simulated(tmp_path / f"{picture}.mp4", picture, 20))
        assert [[f.kind for f in fs] for fs in analyse(frames, reference)] == [expected] * 5
