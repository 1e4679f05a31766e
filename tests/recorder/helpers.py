"""Shared helpers of the recorder tests: cameras in the registry, media files made by
ffmpeg, a supervisor running in a thread, and polling with a deadline."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from oversight import bootstrap
from oversight.errors import AlreadyExists
from oversight.recorder.state import RecorderOptions
from oversight.recorder.supervisor import Supervisor
from oversight.services import recording, registry
from tests.actors import HOST

T = TypeVar("T")

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe not installed",
)


def add_camera(system: bootstrap.System, camera: str, url: str) -> None:
    """Register ``camera`` (and the site and owner it needs, once)."""
    try:
        registry.add_org(system, HOST, org_id="acme", name="Acme", kind="owner")
        registry.add_site(
            system, HOST, site_id="s1", name="Site 1", category="school", owner_id="acme"
        )
    except AlreadyExists:
        pass
    today = system.packs.local_date(system.clock.now())
    registry.add_camera(
        system,
        HOST,
        camera_id=camera,
        site_id="s1",
        placement="general",
        coverage="entrance",
        stream_url=url,
        commissioned=today,
    )


def make_clip(
    path: Path,
    *,
    seconds: float = 6.0,
    video: str = "libx264",
    audio: str | None = "aac",
    fragmented: bool = True,
    size: str = "320x180",
    fps: int = 15,
) -> Path:
    """A synthetic clip: test pattern, keyframe every second, optional sine audio."""
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if audio is not None:
        argv += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000"]
    argv += ["-t", str(seconds), "-c:v", video, "-g", str(fps), "-bf", "0"]
    if video == "libx264":
        argv += ["-preset", "ultrafast"]
    if video == "libx265":
        argv += ["-preset", "ultrafast", "-x265-params", "log-level=error"]
    argv += ["-c:a", audio] if audio is not None else ["-an"]
    if fragmented and path.suffix == ".mp4":
        argv += ["-movflags", "frag_keyframe+empty_moov+default_base_moof"]
    subprocess.run([*argv, str(path)], check=True, timeout=120)
    return path


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll ``check`` until it returns a truthy value; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


@contextmanager
def supervising(system: bootstrap.System, **options: object) -> Iterator[Supervisor]:
    """A supervisor running in a thread; on exit it is stopped (and joined)."""
    opts = {"segment_seconds": 2, "registry_poll": 0.5, "min_free_bytes": 0, "tick": 0.1}
    opts.update(options)
    supervisor = Supervisor(system, RecorderOptions(**opts))  # type: ignore[arg-type]
    failure: list[BaseException] = []

    def run() -> None:
        try:
            supervisor.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="supervisor")
    thread.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the supervisor did not stop"
    if failure:
        raise failure[0]


def accounted_share(segments: list[recording.SegmentRec], gaps: list[recording.GapRec]) -> float:
    """Indexed segment durations plus gaps, over the wall time from the first segment's
    start to the last one's end (issue 19: 1.0 when every moment is accounted for)."""
    if not segments:
        return 0.0
    wall = (max(s.end for s in segments) - min(s.start for s in segments)).total_seconds()
    covered = sum((s.end - s.start).total_seconds() for s in segments)
    covered += sum((g.end - g.start).total_seconds() for g in gaps)
    return covered / wall


def boundary_offsets(
    segments: list[recording.SegmentRec], gaps: list[recording.GapRec]
) -> list[float]:
    """Seconds between each segment's end and the next segment's start, less any gap
    recorded between them: positive is an unaccounted hole, negative an overlap."""
    ordered = sorted(segments, key=lambda s: s.start)
    offsets = []
    for prev, nxt in itertools.pairwise(ordered):
        hole = (nxt.start - prev.end).total_seconds()
        for gap in gaps:
            if gap.start >= prev.end and gap.end <= nxt.start:
                hole -= (gap.end - gap.start).total_seconds()
        offsets.append(hole)
    return offsets
