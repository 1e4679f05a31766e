"""One still frame of a sealed segment, decoded by ffmpeg (the player's snapshot).

:func:`still_argv` is the pure builder; :func:`grab` runs it through
``media.ffmpeg.run_tool`` (the one module that spawns ffmpeg) and reads the picture.
The input is the descriptor the enforcement point hashed, opened again through
``/proc/PID/fd/N`` (the same open file, so a file swapped in the store after the check
is not what is decoded). ffmpeg seeks to the keyframe before ``offset`` and decodes up
to the frame shown at ``offset`` (``-ss`` before ``-i``: accurate seek).
"""

from __future__ import annotations

import logging
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

from oversight.errors import InvalidInput
from oversight.media.ffmpeg import run_tool

log = logging.getLogger(__name__)
FORMATS = {"jpeg": ("mjpeg", "image/jpeg"), "png": ("png", "image/png")}
MAX_BYTES = 32 << 20  # a still of even an 8K frame is a few MB


def media_type(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"snapshot format {fmt!r} is not one of {', '.join(FORMATS)}")
    return FORMATS[fmt][1]


def still_argv(
    source: str, offset: Fraction, out: str, fmt: str, ffmpeg: str = "ffmpeg"
) -> list[str]:
    """ffmpeg's argv for the frame of ``source`` shown at ``offset`` seconds (file time),
    written to ``out`` as one JPEG or PNG picture."""
    media_type(fmt)
    if offset < 0:
        raise InvalidInput("a snapshot's offset into its segment cannot be negative")
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += ["-ss", f"{float(offset):.6f}", "-i", f"file:{source}"]
    argv += ["-map", "0:v:0", "-an", "-frames:v", "1", "-f", "image2", "-c:v", FORMATS[fmt][0]]
    if fmt == "jpeg":
        argv += ["-q:v", "2"]
    return [*argv, out]


def _descriptor_path(handle: BinaryIO) -> str:
    """The open file as another process of ours can open it: the very inode hashed."""
    return f"/proc/{os.getpid()}/fd/{handle.fileno()}"


def grab(
    handle: BinaryIO,
    offset: Fraction,
    fmt: str,
    *,
    timeout: float,
    ffmpeg: str = "ffmpeg",
) -> bytes:
    """The picture at ``offset`` seconds into the open segment ``handle``."""
    with tempfile.TemporaryDirectory(prefix="oversight-still-") as tmp:
        out = Path(tmp) / f"still.{'jpg' if fmt == 'jpeg' else 'png'}"
        argv = still_argv(_descriptor_path(handle), offset, str(out), fmt, ffmpeg)
        done = run_tool(argv, timeout=timeout)
        if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            # ffmpeg's words stay in the log; the person reads a plain reason.
            log.warning("snapshot: ffmpeg exited %d: %s", done.returncode, done.stderr[-500:])
            raise InvalidInput("no frame could be decoded at that instant of the footage")
        if out.stat().st_size > MAX_BYTES:
            raise InvalidInput("the decoded still is larger than any frame should be")
        return out.read_bytes()
