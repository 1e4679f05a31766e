"""Helpers for the simulator tests: ffmpeg readers and ffprobe of what they recorded."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def probe(path: Path) -> dict[str, Any]:
    """Streams (codec, packet count) and duration of a recorded file, from ffprobe."""
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-of", "json", "-show_entries",
         "stream=codec_type,codec_name,nb_read_packets:format=duration", str(path)],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout))


def stream(info: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [s for s in info["streams"] if s["codec_type"] == kind]
    assert found, f"no {kind} stream in {info}"
    return dict(found[0])


def reader_argv(url: str, out: Path, seconds: float | None = 3.0, *options: str) -> list[str]:
    """ffmpeg reading ``url`` for ``seconds`` (None: until the stream ends) into ``out``."""
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-rtsp_transport", "tcp"]
    argv += [*options, "-i", url] + (["-t", str(seconds)] if seconds else [])
    return [*argv, "-c", "copy", "-y", str(out)]


def read(url: str, out: Path, seconds: float = 3.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        reader_argv(url, out, seconds), capture_output=True, text=True, timeout=seconds + 12
    )


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
