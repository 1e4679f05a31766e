"""Simulated cameras: ffmpeg publishing a synthetic live stream to an RTSP relay.

A :class:`SimulatedCamera` is one ffmpeg process that encodes ``testsrc2`` (and optionally
a sine tone) in real time, about 2 Mbit/s with a keyframe every 2 s, and publishes it with
``-f rtsp -rtsp_transport tcp``. The relay path then looks to a recorder like a real
camera, and the process can be stopped, killed (a dead camera) or paused with SIGSTOP (a
stalled source) to test failure handling.

A live encoder costs about 0.1 core (H.264 at 640x360; H.265 several times that), so a
:class:`SimulatedCameraSet` of N cameras runs a few shared encoders (``enc1..encK``) and
serves ``cam1..camN`` as relay aliases of them, round-robin. Each camera can still die
(:meth:`CameraFeed.kill`: the relay drops that path) or stall (:meth:`CameraFeed.pause`)
on its own.
"""

from __future__ import annotations

import base64
import functools
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Literal
from urllib.parse import unquote, urlsplit

from oversight.errors import ConfigError, InvalidInput, OversightError
from oversight.sim.rtsp_relay import RelayThread

Codec = Literal["h264", "h265"]
Audio = Literal["aac", "pcma", "pcmu"]
Picture = Literal["normal", "covered", "blurred"]
CODECS: tuple[Codec, ...] = ("h264", "h265")
AUDIOS: tuple[Audio, ...] = ("aac", "pcma", "pcmu")
PICTURES: tuple[Picture, ...] = ("normal", "covered", "blurred")
DEFAULT_ENCODERS = 4  # a set of N cameras shares min(N, 4) encoders by default

_ENCODERS = {"h264": "libx264", "h265": "libx265"}
_AUDIO = {
    "aac": ["-c:a", "aac", "-b:a", "64k", "-ac", "1"],
    "pcma": ["-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1"],
    "pcmu": ["-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1"],
}
# UTC wall clock (after a label, when there is one) burnt into the picture, so a
# recording shows which camera captured it and when.
OVERLAY = (
    "drawtext=text='%{gmtime\\:%Y-%m-%d %T} UTC':x=8:y=8:fontsize=20"
    ":fontcolor=white:box=1:boxcolor=black@0.6"
)
_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,40}")  # nothing drawtext would interpret
# A lens covered by a hand or paint: all black (the camera's own clock stays on top).
COVERED = "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill"


def mask_png(width: int, height: int, *, opaque: bool) -> bytes:
    """An RGBA PNG of one colour: transparent (the lens is clear) or opaque black
    (covered). Written by hand: the simulator needs no imaging library for this."""
    pixel = b"\x00\x00\x00\xff" if opaque else b"\x00\x00\x00\x00"
    raw = (b"\x00" + pixel * width) * height  # filter byte 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def video_filters(
    picture: Picture, width: int, height: int, *, overlay: bool, label: str | None = None
) -> list[str]:
    """The ``-vf`` chain: the picture's tampering, then the overlay (pure)."""
    filters = []
    if picture == "covered":
        filters.append(COVERED)
    elif picture == "blurred":  # defocused or smeared; the radius fits any frame size
        filters.append(f"boxblur=luma_radius={max(2, min(width, height) // 12)}:luma_power=3")
    if overlay:
        text = f"{label} " if label is not None and _LABEL.fullmatch(label) else ""
        filters.append(OVERLAY.replace("text='", f"text='{text}", 1))
    return filters


@functools.cache
def _ffmpeg_lists(ffmpeg: str, what: str) -> str:
    """``ffmpeg -encoders`` or ``-filters`` output, asked once per process."""
    done = subprocess.run(
        [ffmpeg, "-hide_banner", what], capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout


@functools.cache
def overlay_available(ffmpeg: str = "ffmpeg") -> bool:
    """Whether the timestamp overlay renders: drawtext needs libfreetype and a font."""
    if " drawtext " not in _ffmpeg_lists(ffmpeg, "-filters"):
        return False
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-v", "quiet", "-f", "lavfi", "-i"]
    argv += ["testsrc2=size=160x90:rate=1", "-vf", OVERLAY, "-frames:v", "1", "-f", "null", "-"]
    done = subprocess.run(argv, capture_output=True, timeout=30, check=False)
    return done.returncode == 0


def camera_argv(
    url: str,
    *,
    width: int = 640,
    height: int = 360,
    fps: int = 15,
    codec: Codec = "h264",
    audio: Audio | None = None,
    overlay: bool = False,
    ffmpeg: str = "ffmpeg",
    picture: Picture = "normal",
    label: str | None = None,
    bitrate_kbps: int | None = 2000,
    mask: Path | None = None,
) -> list[str]:
    """The ffmpeg command line of one simulated camera (pure, so it is testable).

    ``mask`` is a PNG laid over the picture and re-read on every frame (image2 with
    ``-loop 1``): replacing the file covers or uncovers the lens while the stream runs,
    without a restart, as a hand or a bag over a real camera would."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "warning"]
    argv += ["-re", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}"]
    if mask is not None:
        argv += ["-f", "image2", "-loop", "1", "-framerate", str(fps), "-i", str(mask)]
    if audio is not None:
        rate = 48000 if audio == "aac" else 8000
        argv += ["-re", "-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate={rate}"]
    filters = video_filters(picture, width, height, overlay=overlay, label=label)
    if mask is not None:
        chain = ",".join(["[0:v][1:v]overlay=eof_action=repeat:format=auto", *filters])
        argv += ["-filter_complex", f"{chain}[v]", "-map", "[v]"]
        if audio is not None:
            argv += ["-map", "2:a"]
    elif filters:
        argv += ["-vf", ",".join(filters)]
    # A keyframe every 2 s and no B-frames, as IP cameras are usually set up.
    argv += ["-c:v", _ENCODERS[codec], "-preset", "ultrafast", "-tune", "zerolatency"]
    argv += ["-g", str(2 * fps), "-bf", "0", "-pix_fmt", "yuv420p"]
    if bitrate_kbps is not None:  # capped like a camera's "max bitrate" setting
        kbits = f"{bitrate_kbps}k"
        argv += ["-b:v", kbits, "-maxrate", kbits, "-bufsize", kbits]
    if codec == "h265":
        argv += ["-x265-params", "log-level=error"]
    if audio is not None:
        argv += _AUDIO[audio]
    return [*argv, "-f", "rtsp", "-rtsp_transport", "tcp", url]


def describe_status(url: str, timeout: float = 2.0) -> int:
    """The status code of an RTSP DESCRIBE of ``url`` (Basic auth from its user info)."""
    parts = urlsplit(url)
    lines = [f"DESCRIBE {_redacted(url)} RTSP/1.0"]
    lines += ["CSeq: 1", "Accept: application/sdp"]
    if parts.username is not None:
        userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        lines.append(f"Authorization: Basic {base64.b64encode(userinfo.encode()).decode()}")
    address = (parts.hostname or "127.0.0.1", parts.port or 554)
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = sock.recv(4096).split(b" ", 2)
    if len(reply) < 2 or not reply[1].isdigit():
        raise OSError(f"not an RTSP reply from {address}")
    return int(reply[1])


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


class SimulatedCamera:
    """One ffmpeg publisher. ``url`` is both where it publishes and where readers read.

    ``with SimulatedCamera(relay.url("cam1")) as cam: ...`` starts it and waits until the
    relay serves the path; ffmpeg's stderr goes to ``log_path`` or nowhere (an unread pipe
    would fill and stall it).
    """

    def __init__(
        self,
        url: str,
        *,
        width: int = 640,
        height: int = 360,
        fps: int = 15,
        codec: Codec = "h264",
        audio: Audio | None = None,
        log_path: Path | None = None,
        ffmpeg: str = "ffmpeg",
        start_timeout: float = 10.0,
        picture: Picture = "normal",
        label: str | None = None,
        bitrate_kbps: int | None = 2000,
        switchable: bool = False,
    ) -> None:
        if codec not in _ENCODERS or (audio is not None and audio not in _AUDIO):
            raise InvalidInput(f"unsupported simulated camera codec {codec!r} / audio {audio!r}")
        if picture not in PICTURES:
            raise InvalidInput(f"unsupported simulated camera picture {picture!r}")
        self._url = url
        self._width, self._height, self._fps = width, height, fps
        self._codec, self._audio = codec, audio
        self._picture, self._label, self._bitrate = picture, label, bitrate_kbps
        self._ffmpeg = ffmpeg
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._paused = False
        self._mask_dir = Path(tempfile.mkdtemp(prefix="oversight-sim-")) if switchable else None
        self.covered = False
        if self._mask_dir is not None:
            self._write_mask(opaque=False)

    @property
    def mask(self) -> Path | None:
        return self._mask_dir / "mask.png" if self._mask_dir is not None else None

    def cover(self, on: bool = True) -> None:
        """Cover (or uncover) the lens of a ``switchable`` camera while it streams."""
        if self._mask_dir is None:
            raise InvalidInput("this simulated camera was not started switchable")
        self._write_mask(opaque=on)
        self.covered = on

    def _write_mask(self, *, opaque: bool) -> None:
        assert self._mask_dir is not None
        tmp = self._mask_dir / "mask.tmp"
        tmp.write_bytes(mask_png(self._width, self._height, opaque=opaque))
        tmp.replace(self._mask_dir / "mask.png")  # atomic: ffmpeg never reads half a file

    @property
    def url(self) -> str:
        return self._url

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def argv(self) -> list[str]:
        encoder = _ENCODERS[self._codec]
        if f" {encoder} " not in _ffmpeg_lists(self._ffmpeg, "-encoders"):
            raise ConfigError(f"{self._ffmpeg} has no {encoder} encoder for a {self._codec} camera")
        return camera_argv(
            self._url,
            width=self._width,
            height=self._height,
            fps=self._fps,
            codec=self._codec,
            audio=self._audio,
            overlay=overlay_available(self._ffmpeg),
            ffmpeg=self._ffmpeg,
            picture=self._picture,
            label=self._label,
            bitrate_kbps=self._bitrate,
            mask=self.mask,
        )

    def start(self) -> SimulatedCamera:
        """Spawn ffmpeg and wait until the relay serves the stream."""
        self.spawn()
        self.wait_ready()
        return self

    def spawn(self) -> None:
        """Spawn ffmpeg without waiting (start many, then :meth:`wait_ready` each)."""
        if self.running:
            return
        self._close()
        argv = self.argv()
        if self._log_path is not None:
            self._log = self._log_path.open("ab")
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log if self._log is not None else subprocess.DEVNULL,
        )
        self._paused = False

    def wait_ready(self, timeout: float | None = None) -> None:
        """Poll the relay with DESCRIBE until the path is published (200)."""
        deadline = time.monotonic() + (timeout or self._start_timeout)
        status = 0
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = self._proc.returncode if self._proc is not None else None
                raise OversightError(
                    f"simulated camera {_redacted(self._url)} exited ({code}) before publishing"
                    + (f"; see {self._log_path}" if self._log_path else "")
                )
            try:
                status = describe_status(self._url)
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.1)
        self.kill()
        raise OversightError(
            f"simulated camera {_redacted(self._url)} not published after "
            f"{timeout or self._start_timeout:.0f} s (last DESCRIBE status {status})"
        )

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (ffmpeg then sends TEARDOWN), SIGKILL if it lingers; reaps the process."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            if self._paused:  # a stopped process only acts on SIGTERM once continued
                proc.send_signal(signal.SIGCONT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._close()

    def dispose(self) -> None:
        """Stop, and remove the mask of a switchable camera (it cannot start again)."""
        self.stop()
        if self._mask_dir is not None:
            shutil.rmtree(self._mask_dir, ignore_errors=True)
            self._mask_dir = None

    def kill(self) -> None:
        """SIGKILL: the camera dies without a TEARDOWN, as on a power cut."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._close()

    def pause(self) -> None:
        """SIGSTOP: the connection stays open but no more packets come (a stalled source)."""
        if self.running and self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)
            self._paused = True

    def resume(self) -> None:
        if self.running and self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)
            self._paused = False

    def _close(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None
        if self._proc is None and self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> SimulatedCamera:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()


@dataclass(frozen=True)
class EncoderSpec:
    """What one shared encoder sends (and so every camera it serves)."""

    width: int = 640
    height: int = 360
    fps: int = 15
    codec: Codec = "h264"
    audio: Audio | None = None
    picture: Picture = "normal"
    bitrate_kbps: int | None = 2000
    switchable: bool = False  # can be covered and uncovered while it streams


class CameraFeed:
    """One camera of a set: a relay path (an alias) served by a shared encoder.

    ``kill`` is the camera dying (its readers are cut and the path answers 404 until
    ``restore``), ``pause`` a stalled camera; neither touches the encoder, which other
    cameras share.
    """

    def __init__(self, name: str, encoder: SimulatedCamera, relay: RelayThread) -> None:
        self.name, self.encoder, self._relay = name, encoder, relay
        self.url = relay.url(name, with_credentials=True)
        self.dropped = False

    @property
    def running(self) -> bool:
        return self.encoder.running and not self.dropped

    def kill(self) -> None:
        self._relay.drop(self.name)
        self.dropped = True

    def restore(self) -> None:
        self._relay.restore(self.name)
        self.dropped = False

    def pause(self) -> None:
        self._relay.stall(self.name)

    def cover(self, on: bool = True) -> None:
        """Cover the lens (every camera of this camera's encoder; give a camera its own
        encoder to cover it alone). The encoder must be switchable."""
        self.encoder.cover(on)

    def resume(self) -> None:
        self._relay.unstall(self.name)

    def jump_clock(self, seconds: float) -> None:
        """The camera's clock jumps by ``seconds``: the RTP timestamps a recorder gets move."""
        self._relay.jump_clock(self.name, seconds)


class SimulatedCameraSet:
    """N cameras ``{prefix}1..{prefix}N`` on one relay (its own unless one is given),
    served by K shared encoders ``{encoder_prefix}1..K``: camera i by encoder
    ((i - 1) mod K) + 1. ``encoders`` is K (default min(N, 4)), or one
    :class:`EncoderSpec` per encoder for mixed groups (H.265, G.711, covered, ...);
    the keyword options make the spec otherwise. An encoder serving one camera burns in
    the camera's name; a shared one its own path name.
    """

    def __init__(
        self,
        count: int,
        *,
        relay: RelayThread | None = None,
        prefix: str = "cam",
        encoders: int | Sequence[EncoderSpec] | None = None,
        encoder_prefix: str = "enc",
        log_dir: Path | None = None,
        width: int = 640,
        height: int = 360,
        fps: int = 15,
        codec: Codec = "h264",
        audio: Audio | None = None,
        picture: Picture = "normal",
        bitrate_kbps: int | None = 2000,
    ) -> None:
        if count < 1:
            raise InvalidInput(f"a camera set needs at least one camera, not {count}")
        spec = EncoderSpec(width, height, fps, codec, audio, picture, bitrate_kbps)
        if encoders is None:
            encoders = min(count, DEFAULT_ENCODERS)
        specs = [spec] * encoders if isinstance(encoders, int) else list(encoders)
        if not 1 <= len(specs) <= count:
            raise InvalidInput(f"{len(specs)} encoders for {count} cameras: use 1 to {count}")
        self._own_relay = relay is None
        self.relay = relay if relay is not None else RelayThread()
        self._count, self._prefix, self._encoder_prefix = count, prefix, encoder_prefix
        self._specs, self._log_dir = specs, log_dir
        self.encoders: list[SimulatedCamera] = []
        self.cameras: list[CameraFeed] = []

    @property
    def urls(self) -> list[str]:
        return [camera.url for camera in self.cameras]

    def encoder_path(self, k: int) -> str:
        """The relay path of encoder ``k`` (1-based)."""
        return f"{self._encoder_prefix}{k}"

    def start(self) -> SimulatedCameraSet:
        if self._own_relay:
            self.relay.start()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        count, prefix, k = self._count, self._prefix, len(self._specs)
        for index, spec in enumerate(self._specs):
            path = self.encoder_path(index + 1)
            served = range(index + 1, count + 1, k)
            log_path = self._log_dir / f"{path}.log" if self._log_dir is not None else None
            encoder = SimulatedCamera(
                self.relay.url(path, with_credentials=True),
                **asdict(spec),
                label=f"{prefix}{served[0]}" if len(served) == 1 else path,
                log_path=log_path,
            )
            self.encoders.append(encoder)
            encoder.spawn()  # all encoders start at once; then wait for each
        for i in range(1, count + 1):
            name, shared = f"{prefix}{i}", (i - 1) % k
            self.relay.alias(name, self.encoder_path(shared + 1))
            self.cameras.append(CameraFeed(name, self.encoders[shared], self.relay))
        for encoder in self.encoders:
            encoder.wait_ready()

    def restart(self, index: int | None = None) -> None:
        """A forced stream restart of encoder ``index`` (0-based; default all): its
        readers see the stream end, its paths answer 404 until the new encoder publishes
        (about half a second), with new RTP sequence numbers and timestamps."""
        for encoder in self.encoders if index is None else [self.encoders[index]]:
            encoder.stop()
            encoder.start()

    def revive(self) -> list[str]:
        """Respawn encoders that exited on their own; the paths of those respawned."""
        revived = []
        for index, encoder in enumerate(self.encoders):
            if not encoder.running:
                encoder.start()
                revived.append(self.encoder_path(index + 1))
        return revived

    def stop(self) -> None:
        for encoder in self.encoders:
            encoder.dispose()
        if not self._own_relay:  # a shared relay keeps running: leave it as we found it
            for camera in self.cameras:
                self.relay.restore(camera.name)
                self.relay.unstall(camera.name)
                self.relay.unalias(camera.name)
        self.encoders.clear()
        self.cameras.clear()
        if self._own_relay:
            self.relay.stop()

    def __iter__(self) -> Iterator[CameraFeed]:
        return iter(self.cameras)

    def __len__(self) -> int:
        return len(self.cameras)

    def __getitem__(self, index: int) -> CameraFeed:
        return self.cameras[index]

    def __enter__(self) -> SimulatedCameraSet:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
