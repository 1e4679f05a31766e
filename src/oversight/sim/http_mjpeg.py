"""A simulated HTTP MJPEG camera: ``multipart/x-mixed-replace`` over HTTP on 127.0.0.1,
as cheap IP cameras and many webcams serve it. One ffmpeg encodes JPEG frames into a
pipe; every HTTP client gets the live frames from then on.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

_BOUNDARY = "oversightframe"
_SOI, _EOI = b"\xff\xd8", b"\xff\xd9"


class _Frames:
    """The last few JPEG frames, numbered, and a condition to wait for the next one.
    Each client sends every frame since the one it sent last (a camera sends every
    frame; sending only the latest one dropped most of them whenever frames came in a
    burst)."""

    KEEP = 32

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.recent: deque[tuple[int, bytes]] = deque(maxlen=self.KEEP)
        self.seq = 0
        self.closed = False

    def publish(self, frame: bytes) -> None:
        with self.cond:
            self.seq += 1
            self.recent.append((self.seq, frame))
            self.cond.notify_all()

    def since(self, seen: int) -> list[tuple[int, bytes]]:
        """Frames numbered after ``seen`` (call holding ``cond``)."""
        return [(n, f) for n, f in self.recent if n > seen]

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class HttpMjpegCamera:
    """``with HttpMjpegCamera() as cam: cam.url`` serves http://127.0.0.1:PORT/video.mjpg."""

    def __init__(self, *, width: int = 320, height: int = 240, fps: int = 10) -> None:
        self.frames = _Frames()
        self._argv = [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
            "-c:v", "mjpeg", "-q:v", "7", "-f", "image2pipe", "pipe:1",
        ]  # fmt: skip
        frames = self.frames

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/video.mjpg":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={_BOUNDARY}")
                self.end_headers()
                seen = frames.seq
                while True:
                    with frames.cond:
                        frames.cond.wait_for(
                            lambda last=seen: frames.closed or frames.seq != last,  # type: ignore[misc]
                            5,
                        )
                        if frames.closed or frames.seq == seen:
                            return
                        batch = frames.since(seen)
                        seen = frames.seq
                    try:
                        for _, frame in batch:
                            self.wfile.write(
                                f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                f"Content-Length: {len(frame)}\r\n\r\n".encode()
                                + frame
                                + b"\r\n"
                            )
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._proc: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/video.mjpg"

    def _pump(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        buffer = b""
        # read1: what the pipe has now. read(n) waits for n bytes, which held frames back
        # and let them out in bursts of six.
        stdout = self._proc.stdout
        assert isinstance(stdout, io.BufferedReader)
        while chunk := stdout.read1(65536):
            buffer += chunk
            # JPEG frames from image2pipe are back to back: cut at each end-of-image.
            while (end := buffer.find(_EOI)) >= 0:
                start = buffer.find(_SOI)
                if 0 <= start < end:
                    self.frames.publish(buffer[start : end + 2])
                buffer = buffer[end + 2 :]

    def __enter__(self) -> HttpMjpegCamera:
        self._proc = subprocess.Popen(self._argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for target in (self._pump, self._server.serve_forever):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.frames.close()
        self._server.shutdown()
        self._server.server_close()
        if self._proc is not None:
            self._proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(5)
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
        for thread in self._threads:
            thread.join(5)
