"""Tamper detection quality and cost (issue 8), on a labelled set of clips made by ffmpeg.

Each *scene* is a synthetic world (480x270, 10 fps) seen by a camera through a 320x180
view: test patterns (testsrc2, SMPTE bars, a still mandelbrot) or a street
of coloured blocks, with shapes moving across it, an area of ``life`` or ``cellauto``
churning like a crowd or traffic, and optional sensor noise added after any tampering
(as a real sensor would). From one ffmpeg run per scene come:

- the reference clip (t = 0-8 s), from whose keyframes the reference is learned;
- an untampered clip (t = 8-68 s, 30 keyframes; ``--untampered-seconds``) for false
  alarms;
- five tampered clips (t = 8-16 s, 4 keyframes), one per kind:
  covered (``drawbox`` filling the frame, black or a dark/grey cloth),
  defocused (strong ``boxblur``), moved (the view panned by crop-and-shift, zoomed by
  ``crop``+``scale``, flipped with ``hflip`` or turned with ``rotate``),
  too_dark (``curves`` scaling the light down to 4-10 %, an iris closing or the lights
  going out) and overexposed (``eq=brightness`` 0.75-0.9).

Keyframes come every 2 s (``keyint=20``, no scene-cut keyframes), decoded with
``health.frames.read_keyframes`` exactly as in production. A clip *raises* a kind when
the ``TamperTracker`` raises it (two consecutive keyframes). Per kind: precision =
clips correctly raising it / clips raising it; recall = clips of that kind raising it.
False alarms: raises on untampered clips per keyframe, times 43,200 keyframes a day
(one every 2 s); with none seen the rule-of-three 95 % bound is printed too.

The thresholds were tuned on the first 20 scenes of ``--seed 8`` and on the ``--hard``
scenes of ``--seed 2026``; the default seed makes scenes never used for tuning. The
even and odd halves are printed apart as well (tune on one, check on the other, when
changing thresholds).

Cost: CPU seconds of the classifier (``frame_stats`` + ``classify``) per keyframe
against CPU seconds of ffmpeg decoding keyframes, on the bench clips (320x180) and on a
1280x720 clip (a more camera-like decode), and the cameras one core can watch at one
keyframe every 2 s.

Usage: python bench/tamper.py [--clips N] [--jobs N] [--seed S] [--untampered-seconds S]
       [--hard] [--keep DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from oversight.health.frames import read_keyframes
from oversight.health.tamper import (
    KINDS,
    Finding,
    Reference,
    TamperTracker,
    classify,
    frame_stats,
    learn,
)

WORLD = (480, 270)
VIEW = (320, 180)
FPS = 10
KEYINT = 20  # a keyframe every 2 s
SAMPLES_PER_DAY = 86_400 // 2
LABELS = ("untampered", *KINDS)
PER_SCENE = len(LABELS)  # labelled clips per scene (the reference clip comes on top)
ENCODE = [
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-crf",
    "26",
    "-x264-params",
    f"keyint={KEYINT}:min-keyint={KEYINT}:scenecut=0:bframes=0",
    "-pix_fmt",
    "yuv420p",
    "-movflags",
    "frag_keyframe+empty_moov+default_base_moof",
]


@dataclass
class Scene:
    index: int
    graph: str  # a filter graph ending in [world]
    description: str
    view: tuple[int, int]  # top-left of the camera's view in the world
    noise: int
    untampered: int = 60  # seconds of the untampered clip
    variants: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (vf, note)


def _colour(rng: random.Random) -> str:
    return f"0x{rng.randrange(256):02x}{rng.randrange(256):02x}{rng.randrange(256):02x}"


def _background(rng: random.Random, kind: str) -> tuple[str, str]:
    w, h = WORLD
    size = f"size={w}x{h}:rate={FPS}"
    if kind == "testsrc2":
        return f"testsrc2={size}", "testsrc2"
    if kind == "bars":
        name = rng.choice(["smptebars", "smptehdbars", "pal75bars", "pal100bars"])
        return f"{name}={size}", name
    if kind == "mandelbrot":
        x, y = rng.uniform(-1.2, -0.2), rng.uniform(-0.4, 0.4)
        scale = rng.uniform(0.2, 1.5)
        return (
            f"mandelbrot={size}:maxiter=200:start_x={x:.4f}:start_y={y:.4f}"
            f":start_scale={scale:.3f}:end_scale={scale:.3f}",
            f"mandelbrot at ({x:.2f},{y:.2f}) x{scale:.2f}",
        )
    if kind == "testsrc":
        return f"testsrc={size}", "testsrc"
    # a street: a flat ground with static blocks of colour (buildings, signs, kerbs)
    parts = [f"color=c={_colour(rng)}:{size}"]
    for _ in range(rng.randint(6, 12)):
        bw, bh = rng.randint(20, 160), rng.randint(20, 140)
        bx, by = rng.randint(0, w - bw), rng.randint(0, h - bh)
        parts.append(f"drawbox=x={bx}:y={by}:w={bw}:h={bh}:color={_colour(rng)}:t=fill")
    return ",".join(parts), "street of blocks"


def make_scene(index: int, seed: int, untampered: int = 60, hard: bool = False) -> Scene:
    rng = random.Random(seed * 1000 + index)
    w, h = WORLD
    kind = ["testsrc2", "bars", "mandelbrot", "testsrc", "street", "street"][index % 6]
    background, description = _background(rng, kind)
    chains = [f"{background},format=yuv420p[bg0]"]
    last = "bg0"
    movers = rng.randint(0, 3)
    for m in range(movers):  # shapes crossing the scene (people, cars)
        mw, mh = rng.randint(10, 50), rng.randint(15, 60)
        speed = rng.uniform(15, 60) * rng.choice([-1, 1])
        y = rng.randint(0, h - mh)
        chains.append(f"color=c={_colour(rng)}:size={mw}x{mh}:rate={FPS}[m{m}]")
        chains.append(
            f"[{last}][m{m}]overlay=x='mod({speed:.1f}*t+{rng.randint(0, w)},{w})'"
            f":y={y}:eval=frame:shortest=0[bg{m + 1}]"
        )
        last = f"bg{m + 1}"
    churn = rng.choice(["", "life", "cellauto"])
    if churn:  # an area of constant change: a crowd, a road, trees in the wind
        cw, ch = rng.randint(60, 140), rng.randint(30, 70)
        if churn == "life":
            src = (
                f"life=size={cw}x{ch}:rate={FPS}:ratio=0.3:mold=20:seed={rng.randrange(1 << 20)}"
                f":life_color={_colour(rng)}:death_color={_colour(rng)}"
            )
        else:
            src = f"cellauto=size={cw}x{ch}:rate={FPS}:rule={rng.choice([18, 30, 90, 110])}"
        chains.append(f"{src},format=yuv420p[churn]")
        chains.append(
            f"[{last}][churn]overlay=x={rng.randint(0, w - cw)}:y={rng.randint(0, h - ch)}"
            f":shortest=0[bgc]"
        )
        last = "bgc"
        description += f" + {churn}"
    chains.append(f"[{last}]trim=end={8 + untampered},setpts=PTS-STARTPTS[world]")
    vx, vy = rng.randint(40, w - VIEW[0] - 40), rng.randint(20, h - VIEW[1] - 20)
    noise = rng.choice([0, 0, 5, 10])
    description += f", {movers} movers" + (f", noise {noise}" if noise else "")
    scene = Scene(index, ";".join(chains), description, (vx, vy), noise, untampered)
    scene.variants = _variants(rng, scene, hard)
    return scene


def _crop(x: int, y: int) -> str:
    return f"crop={VIEW[0]}:{VIEW[1]}:{x}:{y}"


# Tamper strengths: (standard, --hard). Standard: what someone tampering does (a full
# cover, a lens smeared or turned out of focus, a camera turned by a quarter of its view
# or more, lights out, dazzled). Hard: milder tampering, to find where detection ends.
STRENGTH = {
    "covers": (
        ["black", "black", "0x202020", "0x505050", "0x808080"],
        ["black", "0x303030", "0x808080", "0xb0b0b0", "0xe0e0e0"],
    ),
    "blur": ((6, 15), (3, 15)),
    "pan": ((80, 45), (48, 27)),  # at least this far (x or y) in world pixels
    "zoom": ((160, 220), (160, 260)),  # width of the zoomed-into part of the view
    "rotate": ((0.35, 0.8), (0.15, 0.8)),  # radians
    "dim": ((0.04, 0.10), (0.04, 0.2)),  # remaining share of the light
    "bright": ((0.75, 0.9), (0.55, 0.9)),  # eq brightness
}


def _variants(rng: random.Random, scene: Scene, hard: bool) -> dict[str, tuple[str, str]]:
    vx, vy = scene.view
    w, h = WORLD
    view = _crop(vx, vy)
    level = int(hard)
    cover = rng.choice(STRENGTH["covers"][level])
    radius = rng.randint(*STRENGTH["blur"][level])
    power = rng.randint(2, 3)
    move = rng.choice(["pan", "pan", "zoom", "hflip", "rotate"])
    if move == "pan":  # turn the camera: a view some distance away
        px, py = STRENGTH["pan"][level]
        while True:
            nx, ny = rng.randint(0, w - VIEW[0]), rng.randint(0, h - VIEW[1])
            if abs(nx - vx) >= px or abs(ny - vy) >= py:
                break
        moved, note = _crop(nx, ny), f"pan to ({nx},{ny}) from ({vx},{vy})"
    elif move == "zoom":
        zw = rng.randint(*STRENGTH["zoom"][level])
        zh = zw * VIEW[1] // VIEW[0]
        zx, zy = vx + rng.randint(0, VIEW[0] - zw), vy + rng.randint(0, VIEW[1] - zh)
        moved, note = f"crop={zw}:{zh}:{zx}:{zy},scale={VIEW[0]}:{VIEW[1]}", f"zoom to {zw} px"
    elif move == "hflip":
        moved, note = f"{view},hflip", "hflip"
    else:
        angle = rng.uniform(*STRENGTH["rotate"][level]) * rng.choice([-1, 1])
        moved, note = f"{view},rotate={angle:.2f}:fillcolor=black", f"rotate {angle:.2f} rad"
    dim = rng.uniform(*STRENGTH["dim"][level])
    bright = rng.uniform(*STRENGTH["bright"][level])
    return {
        "untampered": (view, "as the reference"),
        "covered": (f"{view},drawbox=x=0:y=0:w=iw:h=ih:color={cover}:t=fill", f"{cover} box"),
        "defocused": (
            f"{view},boxblur=luma_radius={radius}:luma_power={power}",
            f"boxblur {radius}x{power}",
        ),
        "moved": (moved, note),
        "too_dark": (f"{view},curves=all='0/0 1/{dim:.3f}'", f"curves to {dim:.0%}"),
        "overexposed": (f"{view},eq=brightness={bright:.2f}", f"eq brightness {bright:.2f}"),
    }


def generate(scene: Scene, out: Path) -> dict[str, Path]:
    """One ffmpeg run: the reference clip and every labelled clip of ``scene``."""
    outputs = {"reference": (0.0, 8.0, scene.variants["untampered"][0])}
    for label, (vf, _) in scene.variants.items():
        outputs[label] = (8.0, 8.0 + (scene.untampered if label == "untampered" else 8), vf)
    names = list(outputs)
    pads = "".join(f"[s{i}]" for i in range(len(names)))
    parts = [scene.graph, f"[world]split={len(names)}{pads}"]
    noise = f",noise=alls={scene.noise}:allf=t+u" if scene.noise else ""
    for i, name in enumerate(names):
        start, end, vf = outputs[name]
        parts.append(
            f"[s{i}]trim=start={start}:end={end},setpts=PTS-STARTPTS,{vf}{noise},"
            f"format=yuv420p[o{i}]"
        )
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += ["-filter_complex", ";".join(parts)]
    paths = {}
    for i, name in enumerate(names):
        path = out / f"scene{scene.index:03d}-{name}.mp4"
        argv += ["-map", f"[o{i}]", *ENCODE, str(path)]
        paths[name] = path
    timeout = max(300, 4 * (8 + scene.untampered))  # mandelbrot renders slowly
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"scene {scene.index}: ffmpeg failed: {done.stderr[-800:]}")
    return paths


@dataclass
class ClipResult:
    scene: int
    label: str
    keyframes: int
    raised: set[str]
    frame_kinds: list[list[str]]
    notes: list[str]


def evaluate(scene: Scene, paths: dict[str, Path]) -> list[ClipResult]:
    reference: Reference = learn(read_keyframes(paths["reference"]))
    results = []
    for label in LABELS:
        frames = read_keyframes(paths[label])
        tracker = TamperTracker()
        raised: set[str] = set()
        kinds: list[list[str]] = []
        notes: list[str] = []
        for frame in frames:
            findings: list[Finding] = classify(frame_stats(frame), reference)
            kinds.append([f.kind for f in findings])
            notes += [f"{f.kind}: {f.explanation}" for f in findings]
            raised |= {e.kind for e in tracker.update(findings) if e.raised}
        results.append(ClipResult(scene.index, label, len(frames), raised, kinds, notes))
    return results


def report(name: str, results: list[ClipResult]) -> dict[str, tuple[float, float]]:
    print(f"\n{name}: {len({r.scene for r in results})} scenes, {len(results)} labelled clips")
    figures = {}
    for kind in KINDS:
        true_pos = sum(1 for r in results if r.label == kind and kind in r.raised)
        flagged = sum(1 for r in results if kind in r.raised)
        actual = sum(1 for r in results if r.label == kind)
        precision = true_pos / flagged if flagged else 1.0
        recall = true_pos / actual if actual else 1.0
        figures[kind] = (precision, recall)
        print(
            f"  {kind:<12} precision {precision:.3f} ({true_pos}/{flagged})  "
            f"recall {recall:.3f} ({true_pos}/{actual})"
        )
    clean = [r for r in results if r.label == "untampered"]
    samples = sum(r.keyframes for r in clean)
    alarms = sum(len(r.raised) for r in clean)
    frames_flagged = sum(1 for r in clean for k in r.frame_kinds if k)
    per_day = alarms / samples * SAMPLES_PER_DAY if samples else math.nan
    print(
        f"  false alarms on untampered clips: {alarms} in {samples} keyframes "
        f"= {per_day:.2f} alarms per camera-day"
    )
    if alarms == 0 and samples:
        # No alarm seen: how high the rate could still be (rule of three, 95 %), and the
        # rate the two-in-a-row rule gives if flagged keyframes came independently.
        bound = 3 / samples * SAMPLES_PER_DAY
        flag_bound = max(frames_flagged, 3) / samples
        print(
            f"    {frames_flagged} single keyframes flagged; 95 % upper bound on the alarm "
            f"rate from this sample alone: {bound:.0f} per camera-day; with flags at "
            f"most {flag_bound:.4f} per keyframe and independent, two in a row: "
            f"{flag_bound**2 * SAMPLES_PER_DAY:.2f} per camera-day"
        )
    return figures


def cost(paths: list[Path], reference: Reference) -> tuple[float, float, int]:
    """(decode CPU s, classify CPU s, keyframes) for ``paths``, run one at a time."""
    decode = classify_cpu = 0.0
    count = 0
    for path in paths:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        frames = read_keyframes(path)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        decode += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        start = time.process_time()
        for frame in frames:
            classify(frame_stats(frame), reference)
        classify_cpu += time.process_time() - start
        count += len(frames)
    return decode, classify_cpu, count


def camera_clip(out: Path) -> Path:
    """60 s of a 1280x720, 25 fps camera-like stream, keyframe every 2 s."""
    path = out / "hd.mp4"
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25,noise=alls=6:allf=t+u"]
    argv += ["-t", "60", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "2M"]
    argv += ["-x264-params", "keyint=50:min-keyint=50:scenecut=0:bframes=0", "-pix_fmt"]
    argv += ["yuv420p", "-movflags", "frag_keyframe+empty_moov+default_base_moof", str(path)]
    subprocess.run(argv, check=True, timeout=300)
    return path


def print_cost(label: str, decode: float, analyse: float, count: int) -> None:
    per_frame = (decode + analyse) / count
    print(
        f"  {label}: decode {decode / count * 1000:.2f} ms/keyframe, classify "
        f"{analyse / count * 1000:.2f} ms/keyframe = {analyse / decode:.2f}x the decode cost; "
        f"{2.0 / per_frame:.0f} cameras per core at one keyframe every 2 s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=240, help="labelled clips (6 per scene)")
    parser.add_argument("--jobs", type=int, default=2, help="scenes made and analysed at once")
    parser.add_argument(
        "--seed", type=int, default=2027, help="scene generator seed (tuning used 8, 2026)"
    )
    parser.add_argument(
        "--untampered-seconds", type=int, default=60, help="length of each untampered clip"
    )
    parser.add_argument("--hard", action="store_true", help="milder tampering (see STRENGTH)")
    parser.add_argument("--keep", type=Path, help="make the clips here and keep them")
    parser.add_argument("--verbose", action="store_true", help="print every wrong clip")
    args = parser.parse_args()
    scenes_n = max(2, math.ceil(args.clips / PER_SCENE))
    scenes = [make_scene(i, args.seed, args.untampered_seconds, args.hard) for i in range(scenes_n)]
    with tempfile.TemporaryDirectory(prefix="tamper-bench-") as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()

        def run(scene: Scene) -> tuple[dict[str, Path], list[ClipResult]]:
            paths = generate(scene, out)
            return paths, evaluate(scene, paths)

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            done = list(pool.map(run, scenes))
        results = [r for _, rs in done for r in rs]
        print(
            f"{scenes_n} scenes, {scenes_n * (PER_SCENE + 1)} clips made and analysed "
            f"({len(results)} labelled) in {time.monotonic() - started:.0f} s, {args.jobs} jobs"
        )
        report("even scenes", [r for r in results if r.scene % 2 == 0])
        report("odd scenes", [r for r in results if r.scene % 2 == 1])
        every = report(f"all scenes (seed {args.seed})", results)
        if args.verbose:
            print("\nwrong clips:")
            for r in results:
                expected = set() if r.label == "untampered" else {r.label}
                if r.raised != expected:
                    scene = scenes[r.scene]
                    note = scene.variants[r.label][1]
                    print(f"  scene {r.scene} ({scene.description}) {r.label} [{note}]:")
                    print(f"    raised {sorted(r.raised)}, per keyframe {r.frame_kinds}")
                    for line in r.notes[:3]:
                        print(f"    {line}")
        print("\ncost (CPU, one process, clips analysed one at a time):")
        paths0 = done[0][0]
        reference = learn(read_keyframes(paths0["reference"]))
        sample = [p[label] for p, _ in done[:10] for label in LABELS]
        print_cost("bench clips 320x180, 10 fps", *cost(sample, reference))
        hd = camera_clip(out)
        print_cost("camera-like clip 1280x720, 25 fps, 2 Mbit/s", *cost([hd] * 3, reference))
        targets = [v >= 0.95 for p, r in every.values() for v in (p, r)]
        print(f"\ntargets (precision and recall >= 0.95 for every kind): {all(targets)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
