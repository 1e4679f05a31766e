"""Helpers of the evidence tests: real H.264 segments made by ffmpeg (through the one
process runner), sealed into a real ledger, and frames decoded for pixel checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oversight import bootstrap
from oversight.media.ffmpeg import MOVFLAGS, run_tool
from oversight.services.sealing import SealedSegment, seal_file
from tests.recorder.helpers import add_camera

SEGMENT_SECONDS = 6
FPS = 15
WIDTH, HEIGHT = 320, 180
T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)


def make_segments(
    directory: Path, count: int, *, seconds: int = SEGMENT_SECONDS, size: str = f"{WIDTH}x{HEIGHT}"
) -> list[Path]:
    """``count`` consecutive segments of one continuous test recording, split by ffmpeg's
    segment muxer like the recorder does: H.264 with a keyframe every second, AAC audio,
    fragmented MP4."""
    directory.mkdir(parents=True, exist_ok=True)
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-n"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={FPS}"]
    argv += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000"]
    argv += ["-t", str(count * seconds), "-c:v", "libx264", "-preset", "ultrafast"]
    argv += ["-g", str(FPS), "-bf", "0", "-c:a", "aac", "-f", "segment"]
    argv += ["-segment_time", str(seconds), "-reset_timestamps", "1", "-segment_format", "mp4"]
    argv += ["-segment_format_options", f"movflags={MOVFLAGS}", str(directory / "seg-%02d.mp4")]
    out = run_tool(argv, timeout=120)
    assert out.returncode == 0, out.stderr
    files = [directory / f"seg-{i:02d}.mp4" for i in range(count)]
    assert all(f.is_file() for f in files)
    return files


def packet_hashes(path: Path) -> list[str]:
    """SHA-256 of each video packet's payload: equal payloads mean a stream copy."""
    argv = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_data_hash", "sha256"]
    argv += ["-show_entries", "packet=data_hash", "-of", "json", f"file:{path}"]
    out = run_tool(argv, timeout=60)
    assert out.returncode == 0, out.stderr
    return [p["data_hash"] for p in json.loads(out.stdout)["packets"]]


def gray_frame(path: Path, at: float, tmp: Path) -> bytes:
    """The frame at ``at`` seconds decoded to 8-bit gray, WIDTH x HEIGHT bytes."""
    raw = tmp / f"frame-{path.stem}-{at}.gray"
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", str(at)]
    argv += ["-i", f"file:{path}", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray"]
    out = run_tool([*argv, f"file:{raw}"], timeout=60)
    assert out.returncode == 0, out.stderr
    data = raw.read_bytes()
    assert len(data) == WIDTH * HEIGHT
    return data


def region(frame: bytes, x0: int, y0: int, x1: int, y1: int) -> list[int]:
    return [frame[y * WIDTH + x] for y in range(y0, y1) for x in range(x0, x1)]


@dataclass(frozen=True)
class Recorded:
    segments: list[SealedSegment]
    files: list[Path]  # the stored files, read directly in tests (see record_and_seal)


def record_and_seal(system: bootstrap.System, tmp: Path, count: int = 2) -> Recorded:
    """``count`` consecutive segments of cam1 from T0, sealed into the ledger and store.

    The files returned are the store's own copies: tests read them directly, where in
    production the enforcement point hands the bytes over after its audit leaf.
    """
    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    sealed = []
    for i, spool in enumerate(make_segments(tmp / "spool", count)):
        start = T0 + timedelta(seconds=i * SEGMENT_SECONDS)
        sealed.append(
            seal_file(
                system,
                camera="cam1",
                path=spool,
                start=start,
                end=start + timedelta(seconds=SEGMENT_SECONDS),
            )
        )
    files = [system.store.path(s.storage_key) for s in sealed]  # type: ignore[attr-defined]
    return Recorded(sealed, files)
