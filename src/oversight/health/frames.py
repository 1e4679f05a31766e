"""Keyframe sampling: the keyframes of a segment file or a live stream as small grey frames.

ffmpeg decodes only keyframes (``-skip_frame nokey``), scales them to
``KEYFRAME_WIDTH`` x ``KEYFRAME_HEIGHT`` and writes 8-bit grey to a pipe; each frame
becomes a ``numpy.uint8`` array of shape (height, width). Cameras usually send a keyframe
every 1-2 s, which is the low sample rate tamper detection wants, at a fraction of the
cost of decoding every frame. The argv comes from the pure builder
:func:`oversight.media.ffmpeg.build_keyframe_command`; ffmpeg runs only in
``media/ffmpeg.py``.

Every read has a deadline: a network input gets ffmpeg's own I/O timeout, and each
frame must arrive within ``frame_timeout`` seconds. Unreadable input raises
:class:`~oversight.errors.NotFound` (no such file) or
:class:`~oversight.errors.InvalidInput` (not video, ffmpeg failed, timed out).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import numpy.typing as npt

from oversight.errors import InvalidInput, NotFound
from oversight.media.ffmpeg import (
    KEYFRAME_HEIGHT,
    KEYFRAME_WIDTH,
    KeyframePlan,
    RawVideoPipe,
    build_keyframe_command,
)
from oversight.redaction import redact_url

Frame = npt.NDArray[np.uint8]

# A segment file decodes in well under a second per minute of video at camera sizes.
FILE_FRAME_TIMEOUT = 30.0
# A live camera sends a keyframe every few seconds; allow a slow one plus the connect.
STREAM_FRAME_TIMEOUT = 15.0


def _local_path(source: str) -> Path | None:
    """The file a source names, or None for a network URL."""
    if "://" not in source and not source.startswith("file:"):
        return Path(source)
    if source.startswith("file:"):
        return Path(unquote(urlsplit(source).path))
    return None


def _describe(source: str) -> str:
    path = _local_path(source)
    return str(path) if path is not None else redact_url(source)


def iter_keyframes(
    source: str | Path,
    *,
    max_frames: int | None = None,
    frame_timeout: float | None = None,
    input_timeout: float = 10.0,
    width: int = KEYFRAME_WIDTH,
    height: int = KEYFRAME_HEIGHT,
    ffmpeg: str = "ffmpeg",
) -> Iterator[Frame]:
    """Yield the keyframes of ``source`` (a path, ``file:`` URL, or rtsp/http URL) as
    (height, width) uint8 arrays, as ffmpeg decodes them. Closing the iterator stops
    ffmpeg. A live stream never ends by itself: pass ``max_frames`` or stop iterating."""
    text = str(source)
    path = _local_path(text)
    if path is not None:
        if not path.is_file():
            raise NotFound(f"no such segment file: {path}")
        text = str(path.resolve())
    timeout = frame_timeout or (FILE_FRAME_TIMEOUT if path else STREAM_FRAME_TIMEOUT)
    plan = KeyframePlan(
        url=text,
        width=width,
        height=height,
        max_frames=max_frames,
        input_timeout=input_timeout,
        ffmpeg=ffmpeg,
    )
    argv = build_keyframe_command(plan)
    size = width * height
    count = 0
    with RawVideoPipe(argv, secret_url=None if path else text) as pipe:
        while True:
            try:
                data = pipe.read_exact(size, timeout)
            except InvalidInput:
                raise InvalidInput(
                    f"{_describe(text)}: no keyframe within {timeout:.0f} s"
                ) from None
            if data is None:
                break
            count += 1
            yield np.frombuffer(data, dtype=np.uint8).reshape(height, width).copy()
            if max_frames is not None and count >= max_frames:
                return
        code = pipe.wait(timeout)
        if code != 0 or count == 0:
            detail = "; ".join(pipe.stderr_tail()) or f"ffmpeg exit {code}"
            if count == 0 and code == 0:
                detail = "no video keyframes"
            raise InvalidInput(f"{_describe(text)}: cannot read keyframes: {detail}")


def read_keyframes(
    source: str | Path,
    *,
    max_frames: int | None = None,
    frame_timeout: float | None = None,
    input_timeout: float = 10.0,
    width: int = KEYFRAME_WIDTH,
    height: int = KEYFRAME_HEIGHT,
    ffmpeg: str = "ffmpeg",
) -> list[Frame]:
    """Every keyframe of ``source`` (up to ``max_frames``), in order; see
    :func:`iter_keyframes`."""
    return list(
        iter_keyframes(
            source,
            max_frames=max_frames,
            frame_timeout=frame_timeout,
            input_timeout=input_timeout,
            width=width,
            height=height,
            ffmpeg=ffmpeg,
        )
    )
