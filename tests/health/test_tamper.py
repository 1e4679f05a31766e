"""classify, learn and TamperTracker on frames synthesised in numpy (no I/O)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from oversight.errors import InvalidInput
from oversight.health import tamper
from oversight.health.tamper import Finding, TamperTracker, analyse, classify, frame_stats, learn

from .conftest import Frame, view


def kinds(frame: Frame, reference: tamper.Reference) -> list[str]:
    return [f.kind for f in classify(frame_stats(frame), reference)]


@pytest.fixture(scope="module")
def reference(learning_frames: list[Frame]) -> tamper.Reference:
    return learn(learning_frames)


def test_untampered_frames_raise_nothing(world: Frame, reference: tamper.Reference) -> None:
    for seed in range(10, 20):
        frame = view(world, seed=seed, noise=5.0)
        frame[20:90, 10 * seed : 10 * seed + 40] = 30  # someone walking past
        assert kinds(frame, reference) == [], seed


def test_slightly_dimmer_and_brighter_light_is_not_tampering(
    world: Frame, reference: tamper.Reference
) -> None:
    base = view(world, seed=3).astype(np.float32)
    for gain in (0.6, 1.2):
        assert kinds(np.clip(base * gain, 0, 255).astype(np.uint8), reference) == []


@pytest.mark.parametrize("level", [0, 12, 60, 128, 200])
def test_a_uniform_frame_is_covered(level: int, reference: tamper.Reference) -> None:
    frame = np.full((180, 320), level, np.uint8)
    frame = np.clip(frame + np.random.default_rng(1).normal(0, 1.5, frame.shape), 0, 255)
    assert kinds(frame.astype(np.uint8), reference) == ["covered"]


def test_a_white_sheet_is_covered_but_a_saturated_frame_is_overexposed(
    reference: tamper.Reference,
) -> None:
    sheet = np.clip(224 + np.random.default_rng(3).normal(0, 1.5, (180, 320)), 0, 255)
    assert kinds(sheet.astype(np.uint8), reference) == ["covered"]
    assert kinds(np.full((180, 320), 255, np.uint8), reference) == ["overexposed"]


def test_a_black_frame_with_the_cameras_clock_on_top_is_covered(
    reference: tamper.Reference,
) -> None:
    frame = np.zeros((180, 320), np.uint8)
    frame[4:18, 4:150] = 40  # the burnt-in clock's box
    frame[7:15, 8:146:4] = 255  # its digits
    [finding] = classify(frame_stats(frame), reference)
    assert finding.kind == "covered"
    assert "scene is gone" in finding.explanation


def test_a_blurred_view_is_defocused(world: Frame, reference: tamper.Reference) -> None:
    blurred = cv2.blur(view(world, seed=5, noise=0), (25, 25))
    [finding] = classify(frame_stats(blurred), reference)
    assert finding.kind == "defocused"
    assert finding.score < tamper.DEFOCUS_RATIO
    assert "of the reference" in finding.explanation


def test_a_blurred_view_with_sensor_noise_is_still_defocused(
    world: Frame, reference: tamper.Reference
) -> None:
    blurred = cv2.GaussianBlur(view(world, seed=5, noise=0), (0, 0), 6).astype(np.float32)
    noisy = blurred + np.random.default_rng(2).normal(0, 3, blurred.shape)
    assert kinds(np.clip(noisy, 0, 255).astype(np.uint8), reference) == ["defocused"]


@pytest.mark.parametrize(
    "how",
    ["pan", "tilt", "hflip", "zoom", "rotate"],
)
def test_a_moved_camera_is_moved(how: str, world: Frame, reference: tamper.Reference) -> None:
    if how == "pan":
        frame = view(world, x=0, y=45, seed=7)
    elif how == "tilt":
        frame = view(world, x=80, y=0, seed=7)
    elif how == "hflip":
        frame = np.ascontiguousarray(view(world, seed=7)[:, ::-1])
    elif how == "zoom":
        frame = cv2.resize(view(world, seed=7)[40:130, 80:240], (320, 180))
    else:
        turn = cv2.getRotationMatrix2D((160, 90), 30, 1.0)
        frame = cv2.warpAffine(view(world, seed=7), turn, (320, 180))
    [finding] = classify(frame_stats(frame), reference)
    assert finding.kind == "moved"
    assert "no longer matches" in finding.explanation


def test_another_scene_is_moved(reference: tamper.Reference) -> None:
    from .conftest import synthetic_scene

    assert kinds(view(synthetic_scene(seed=99)), reference) == ["moved"]


def test_a_dimmed_scene_is_too_dark(world: Frame, reference: tamper.Reference) -> None:
    dark = (view(world, seed=8).astype(np.float32) * 0.07).astype(np.uint8)
    [finding] = classify(frame_stats(dark), reference)
    assert finding.kind == "too_dark"
    assert finding.score < tamper.DARK_MEAN


def test_a_washed_out_scene_is_overexposed(world: Frame, reference: tamper.Reference) -> None:
    bright = np.clip(view(world, seed=9).astype(np.int32) + 230, 0, 255).astype(np.uint8)
    assert kinds(bright, reference) == ["overexposed"]
    assert kinds(np.full((180, 320), 255, np.uint8), reference) == ["overexposed"]


def test_a_naturally_bright_or_dark_scene_is_judged_against_its_own_reference(
    world: Frame,
) -> None:
    dark_scene = [
        (view(world, seed=i).astype(np.float32) * 0.08).astype(np.uint8) for i in range(4)
    ]
    night = learn(dark_scene)
    assert kinds(dark_scene[0], night) == []


def test_other_frame_sizes_and_colour_are_analysed_at_the_same_size(
    world: Frame, reference: tamper.Reference
) -> None:
    big = cv2.resize(view(world, seed=11), (1280, 720), interpolation=cv2.INTER_CUBIC)
    assert kinds(big, reference) == []
    colour = cv2.cvtColor(view(world, seed=12), cv2.COLOR_GRAY2BGR)
    assert kinds(colour, reference) == []


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((180, 320), np.float32),
        np.zeros((10, 10), np.uint8),
        np.zeros((2, 180, 320), np.uint8),
    ],
)
def test_bad_frames_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInput, match="2-D uint8"):
        frame_stats(bad)


def test_learning_needs_enough_frames_and_a_visible_scene(learning_frames: list[Frame]) -> None:
    with pytest.raises(InvalidInput, match="at least 3 keyframes"):
        learn(learning_frames[:2])
    covered = [np.zeros((180, 320), np.uint8)] * 4
    with pytest.raises(InvalidInput, match="looks covered"):
        learn(covered)
    white = [np.full((180, 320), 252, np.uint8)] * 4
    with pytest.raises(InvalidInput, match="looks covered or dazzled"):
        learn(white)


def test_reference_is_a_median_unmoved_by_a_passer_by(
    learning_frames: list[Frame], reference: tamper.Reference
) -> None:
    assert reference.frames == 4
    assert 0.0 < reference.detail_floor <= 1.0
    assert reference.self_match > 0.9
    assert reference.thumb.shape == tamper.THUMB_SIZE[::-1]
    assert abs(float(np.linalg.norm(reference.thumb)) - 1.0) < 1e-4


def test_analyse_gives_the_findings_of_each_frame(
    world: Frame, reference: tamper.Reference
) -> None:
    frames = [view(world, seed=1), np.zeros((180, 320), np.uint8), view(world, x=0, y=0)]
    assert [[f.kind for f in fs] for fs in analyse(frames, reference)] == [
        [],
        ["covered"],
        ["moved"],
    ]


# ---- TamperTracker ------------------------------------------------------------------


def finding(kind: tamper.Kind) -> list[Finding]:
    return [Finding(kind, 0.0, f"{kind} for the test")]


def test_one_odd_frame_raises_nothing() -> None:
    tracker = TamperTracker()
    assert tracker.update(finding("covered")) == []
    assert tracker.update([]) == []
    assert tracker.update(finding("moved")) == []
    assert tracker.update([]) == []
    assert tracker.active == frozenset()


def test_consecutive_frames_raise_once_and_clean_frames_clear() -> None:
    tracker = TamperTracker(raise_after=2, clear_after=3)
    assert tracker.update(finding("covered")) == []
    [raised] = tracker.update(finding("covered"))
    assert (raised.kind, raised.raised) == ("covered", True)
    assert raised.explanation == "covered for the test"
    assert tracker.update(finding("covered")) == []  # still raised: no duplicate
    assert tracker.active == {"covered"}
    assert tracker.update([]) == []
    assert tracker.update(finding("covered")) == []  # a relapse restarts the clear count
    assert tracker.update([]) == []
    assert tracker.update([]) == []
    [cleared] = tracker.update([])
    assert (cleared.kind, cleared.raised) == ("covered", False)
    assert tracker.active == frozenset()


def test_kinds_are_tracked_separately() -> None:
    tracker = TamperTracker(raise_after=2, clear_after=1)
    tracker.update(finding("too_dark"))
    events = tracker.update(finding("covered"))  # the dark frame did not repeat
    assert events == []
    [raised] = tracker.update(finding("covered"))
    assert raised.kind == "covered"
    [cleared] = tracker.update(finding("too_dark"))
    assert (cleared.kind, cleared.raised) == ("covered", False)
    [raised] = tracker.update(finding("too_dark"))
    assert (raised.kind, raised.raised) == ("too_dark", True)


def test_raise_after_one_raises_at_once() -> None:
    [event] = TamperTracker(raise_after=1).update(finding("overexposed"))
    assert event.raised


def test_tracker_settings_are_checked() -> None:
    with pytest.raises(InvalidInput):
        TamperTracker(raise_after=0)
