"""Shared fixtures of the tamper-detection tests: scenes synthesised in numpy, and one
real scene with its tampered variants made by ffmpeg (once per session)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")

Frame = np.ndarray

# ---- numpy scenes -------------------------------------------------------------------


def synthetic_scene(seed: int = 1, width: int = 480, height: int = 270) -> Frame:
    """A wide grey 'world' with blocks, stripes and a gradient: structure at every scale."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    world = 60 + 80 * xs / width + 30 * np.sin(ys / 17.0)
    for _ in range(40):
        w, h = rng.integers(8, 70, size=2)
        x, y = rng.integers(0, width - w), rng.integers(0, height - h)
        world[y : y + h, x : x + w] = rng.integers(20, 235)
    return np.clip(world, 0, 255).astype(np.uint8)


def view(world: Frame, x: int = 80, y: int = 45, seed: int = 0, noise: float = 3.0) -> Frame:
    """A camera's 320x180 view of ``world`` at (x, y), with sensor noise."""
    crop = world[y : y + 180, x : x + 320].astype(np.float32)
    crop += np.random.default_rng(seed).normal(0, noise, crop.shape)
    return np.clip(crop, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def world() -> Frame:
    return synthetic_scene()


@pytest.fixture(scope="session")
def learning_frames(world: Frame) -> list[Frame]:
    """Four untampered keyframes, a passer-by (a bright box) in a different place in each."""
    frames = []
    for i in range(4):
        frame = view(world, seed=i)
        frame[100:150, 20 + 70 * i : 50 + 70 * i] = 240
        frames.append(frame)
    return frames


# ---- ffmpeg scene -------------------------------------------------------------------

VARIANTS = {
    "reference": "crop=320:180:80:45",
    "untampered": "crop=320:180:80:45",
    "covered": "crop=320:180:80:45,drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill",
    "defocused": "crop=320:180:80:45,boxblur=luma_radius=12:luma_power=3",
    "moved": "crop=320:180:0:0",
    "too_dark": "crop=320:180:80:45,curves=all='0/0 1/0.07'",
    "overexposed": "crop=320:180:80:45,eq=brightness=0.9",
}
# A street of coloured blocks on testsrc2, with a box crossing it and sensor noise.
SCENE = (
    "testsrc2=size=480x270:rate=10,drawbox=x=30:y=150:w=120:h=90:color=0x305080:t=fill,"
    "drawbox=x=300:y=20:w=90:h=140:color=0xa0a040:t=fill,format=yuv420p[bg];"
    "color=c=0xe0e0e0:size=30x50:rate=10[m];"
    "[bg][m]overlay=x='mod(40*t,480)':y=200:eval=frame:shortest=0,trim=end=16[world]"
)


def make_variants(out: Path, seconds: float = 8.0) -> dict[str, Path]:
    """One ffmpeg run: every variant of SCENE as a fragmented MP4 with a keyframe every
    2 s (10 fps, keyint 20); the reference from t=0, the others from t=8 s."""
    names = list(VARIANTS)
    pads = "".join(f"[s{i}]" for i in range(len(names)))
    graph = [SCENE, f"[world]split={len(names)}{pads}"]
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    paths = {}
    for i, name in enumerate(names):
        start = 0.0 if name == "reference" else 8.0
        graph.append(
            f"[s{i}]trim=start={start}:end={start + seconds},setpts=PTS-STARTPTS,"
            f"{VARIANTS[name]},noise=alls=4:allf=t+u,format=yuv420p[o{i}]"
        )
    argv += ["-filter_complex", ";".join(graph)]
    for i, name in enumerate(names):
        paths[name] = out / f"{name}.mp4"
        argv += ["-map", f"[o{i}]", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "26"]
        argv += ["-x264-params", "keyint=20:min-keyint=20:scenecut=0:bframes=0"]
        argv += ["-movflags", "frag_keyframe+empty_moov+default_base_moof", str(paths[name])]
    subprocess.run(argv, check=True, timeout=120, capture_output=True)
    return paths


@pytest.fixture(scope="session")
def ffmpeg_variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    return make_variants(tmp_path_factory.mktemp("tamper-clips"))


@pytest.fixture
def make_clip(tmp_path: Path) -> Callable[..., Path]:
    """A fragmented MP4 of testsrc2 with a fixed GOP: ``make_clip(seconds, fps, gop)``."""

    def make(seconds: float = 6.0, fps: int = 10, gop: int = 20, name: str = "clip.mp4") -> Path:
        path = tmp_path / name
        argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"]
        argv += ["-i", f"testsrc2=size=640x360:rate={fps}", "-t", str(seconds)]
        argv += ["-c:v", "libx264", "-preset", "ultrafast"]
        argv += ["-x264-params", f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"]
        argv += ["-movflags", "frag_keyframe+empty_moov+default_base_moof", str(path)]
        subprocess.run(argv, check=True, timeout=60, capture_output=True)
        return path

    return make
