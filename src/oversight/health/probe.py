"""A camera's live health probe: one ffmpeg connection that reports every video packet
(never decoded) and decodes only the keyframes, small and grey, for tamper analysis.

Packets give the frame rate and bitrate as they arrive; their absence is an outage.
The argv comes from ``media.ffmpeg.build_health_probe_command``; two threads read
the packet lines and the frames, and the monitor polls :meth:`LiveProbe.stats` and
drains :meth:`LiveProbe.frames`.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from oversight.errors import OversightError
from oversight.health.tamper import Frame
from oversight.media.ffmpeg import (
    KEYFRAME_HEIGHT,
    KEYFRAME_WIDTH,
    KeyframePlan,
    RawVideoPipe,
    build_health_probe_command,
)

WINDOW_S = 10.0  # frame rate and bitrate are averaged over this much wall time
_MAX_FRAMES_QUEUED = 8  # analysis behind by more than this drops the oldest frames


@dataclass(frozen=True)
class StreamStats:
    fps: float
    kbps: float
    last_packet_at: float | None  # monotonic seconds
    packets: int


class LiveProbe:
    def __init__(self, url: str, *, input_timeout: float = 10.0, ffmpeg: str = "ffmpeg") -> None:
        self._url = url
        self._plan = KeyframePlan(url=url, input_timeout=input_timeout, ffmpeg=ffmpeg)
        self._packets: deque[tuple[float, int]] = deque()
        self._count = 0
        self._last: float | None = None
        self._lock = threading.Lock()
        self._frames: queue.Queue[Frame] = queue.Queue(_MAX_FRAMES_QUEUED)
        self._pipe: RawVideoPipe | None = None
        self._threads: list[threading.Thread] = []
        self.started_at = 0.0

    def start(self) -> LiveProbe:
        read_end, write_end = os.pipe()
        try:
            argv = build_health_probe_command(self._plan, write_end)
            self._pipe = RawVideoPipe(argv, secret_url=self._url, pass_fds=(write_end,))
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)  # ffmpeg holds its copy; EOF reaches us when it exits
        self.started_at = time.monotonic()
        self._threads = [
            threading.Thread(target=self._read_packets, args=(read_end,), daemon=True),
            threading.Thread(target=self._read_frames, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def _read_packets(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as lines:
            for line in lines:
                if line.startswith(b"#"):
                    continue
                fields = line.split(b",")
                if len(fields) < 6:
                    continue
                try:
                    size = int(fields[4])
                except ValueError:
                    continue
                now = time.monotonic()
                with self._lock:
                    self._packets.append((now, size))
                    self._count += 1
                    self._last = now
                    while self._packets and now - self._packets[0][0] > WINDOW_S:
                        self._packets.popleft()

    def _read_frames(self) -> None:
        pipe = self._pipe
        assert pipe is not None
        size = KEYFRAME_WIDTH * KEYFRAME_HEIGHT
        while True:
            try:
                data = pipe.read_exact(size, 3600.0)  # outages show in the packet stats
            except (OversightError, OSError, ValueError):
                return
            if data is None:
                return
            frame = np.frombuffer(data, dtype=np.uint8).reshape(KEYFRAME_HEIGHT, KEYFRAME_WIDTH)
            if self._frames.full():
                self._frames.get_nowait()
            self._frames.put_nowait(frame)

    def frames(self) -> list[Frame]:
        """Keyframes decoded since the last call, oldest first."""
        out = []
        while True:
            try:
                out.append(self._frames.get_nowait())
            except queue.Empty:
                return out

    def stats(self) -> StreamStats:
        now = time.monotonic()
        with self._lock:
            recent = [(t, s) for t, s in self._packets if now - t <= WINDOW_S]
            last, count = self._last, self._count
        if not recent:
            return StreamStats(0.0, 0.0, last, count)
        # Over the window, or since the first packet while the window is still filling.
        span = min(WINDOW_S, max(now - recent[0][0], 1.0))
        return StreamStats(
            len(recent) / span, sum(s for _, s in recent) * 8 / 1000 / span, last, count
        )

    def stop(self) -> None:
        if self._pipe is not None:
            self._pipe.__exit__(None, None, None)  # stops ffmpeg, closes its pipes
            self._pipe = None
        for thread in self._threads:
            thread.join(timeout=5)
