"""ffmpeg: the pure argv builder for one camera, and the one place that spawns ffmpeg.

Builder (pure, no I/O): :func:`input_options`, :func:`build_record_command`.
Shell: :class:`FfmpegProcess` (the long-running recorder of one camera),
:func:`run_tool` (short ffprobe runs) and :class:`RawVideoPipe` (keyframes decoded to raw
frames for tamper detection, built by :func:`build_keyframe_command`), the only spawners
of ffmpeg-family programs.

Output layout: ``<spool>/<run_id>-%08d.<ext>``, fragmented MP4 (``frag_keyframe+
empty_moov+default_base_moof``, a fragment at least every second: a segment killed
mid-write stays playable up to its last complete fragment) or Matroska for video
MP4 players do not take (MJPEG).
Finished segments are announced by ffmpeg's own segment list, written as CSV to
stdout (``-segment_list pipe:1``), never found by polling files still being written.
ffmpeg prints a list entry just *before* it closes the segment file, so the
caller waits until the process no longer holds the file (:meth:`FfmpegProcess.holds`).

Credentials: the stream URL, password included, is passed to ffmpeg in its argv,
which other local users can read in the process list. ffmpeg has no portable way to
take RTSP credentials from elsewhere (a file or the environment); deployments that
need it should run the recorder under its own user on a host without other users.
Nothing Oversight logs or stores contains the URL unscrubbed.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import unquote, urlsplit

from oversight.errors import ConfigError, InvalidInput
from oversight.redaction import scrub, secrets_of

log = logging.getLogger(__name__)

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
# A fragment at least every second, keyframe or not, written out at once (flush_packets;
# else it waits in a 32 kB buffer): a killed ffmpeg loses at most the last second, not a
# whole GOP (cameras often send one keyframe every few seconds).
FRAGMENT_MICROSECONDS = 1_000_000
MP4_OPTIONS = f"movflags={MOVFLAGS}:frag_duration={FRAGMENT_MICROSECONDS}:flush_packets=1"
# Video copied into MP4; anything else (MJPEG, MPEG-4 part 2, ...) goes into Matroska.
MP4_VIDEO = frozenset({"h264", "hevc"})
# Audio MP4 holds and we copy; anything else (G.711 pcm_alaw/pcm_mulaw, ...) is
# transcoded to AAC or dropped, with a warning. Video is never lost for audio.
MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3"})
SEGMENT_EXTENSIONS = (".mp4", ".mkv")
AudioPolicy = Literal["transcode", "drop"]

# Camera clock jumps. Told an error threshold (``-dts_error_threshold``), ffmpeg replaces a
# packet timestamp that strays further than that from the one it predicts (the last plus
# the frame's duration) by the prediction, so a camera whose clock is set an hour forward
# or 30 s back keeps a continuous timeline: no segment claims an hour, none is squashed to
# a millisecond, and the segment muxer still cuts at the configured length. ffmpeg says so
# once per packet: "DTS <ts in the stream's time base>, next:<prediction in microseconds>
# st:<input stream> invalid dropping" (and a PTS line alike): the size of the jump is the
# difference, which :class:`FfmpegProcess` reports once per jump.
_DTS_REPLACED = re.compile(r"^DTS (-?\d+), next:(-?\d+) st:(\d+) invalid dropping$")
_PTS_REPLACED = re.compile(r"^PTS -?\d+, next:-?\d+ invalid dropping st:\d+$")
RTP_VIDEO_CLOCK = 90_000  # Hz: every RTP video payload format (RFC 3551 5)
# Warnings ffmpeg 5.1 prints on every start with stream copy into segments: true, harmless,
# and no explanation of why ffmpeg stopped, so kept out of the tail that explains a failure.
_NOISE = re.compile(
    r"Timestamps are unset in a packet for stream|Non-monotonous DTS in output stream"
)


@dataclass(frozen=True)
class SourceInfo:
    """What ffprobe found in a stream: codec names, None for an absent stream."""

    video_codec: str | None
    audio_codec: str | None


@dataclass(frozen=True)
class RecordPlan:
    """Everything the builder needs for one ffmpeg run of one camera."""

    camera: str
    url: str = field(repr=False)
    spool_dir: Path
    run_id: str
    segment_seconds: int = 60
    input_timeout: float = 10.0
    # None: the source was not probed; audio, if any, is then transcoded to be safe.
    source: SourceInfo | None = None
    audio_policy: AudioPolicy = "transcode"
    # A camera timestamp further than this (seconds) from ffmpeg's prediction is a jump.
    clock_jump: float = 2.0
    ffmpeg: str = "ffmpeg"
    # The live window (see :func:`live_options`): None, no live output.
    live_dir: Path | None = None


@dataclass(frozen=True)
class RecordCommand:
    argv: list[str] = field(repr=False)
    extension: str
    output_pattern: str
    warnings: tuple[str, ...] = ()


def new_run_id(now: datetime) -> str:
    """Run ids sort in time order, so spool files sort in recording order."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower() if "://" in url else "file"


def input_target(url: str) -> str:
    """What ffmpeg opens: the URL itself, or ``file:PATH`` for file URLs and paths."""
    if _scheme(url) != "file":
        return url
    path = unquote(urlsplit(url).path) if url.startswith("file:") else url
    return f"file:{path}"


def input_options(url: str, timeout: float, *, realtime: bool = True) -> list[str]:
    """Input options by scheme. Every network input gets an I/O timeout: without it a
    stalled RTSP source hangs ffmpeg for 10+ minutes, and a dead one ends it with exit 0."""
    if timeout <= 0:
        raise InvalidInput("the input timeout must be positive")
    micros = str(round(timeout * 1_000_000))
    scheme = _scheme(url)
    if scheme in ("rtsp", "rtsps"):
        return ["-rtsp_transport", "tcp", "-timeout", micros]
    if scheme in ("http", "https"):
        # MJPEG over HTTP carries no timestamps: without wall-clock ones the segment
        # muxer cannot cut by time and one segment grows for ever.
        return ["-rw_timeout", micros, "-use_wallclock_as_timestamps", "1"]
    if scheme == "file":
        # A file is a replay: read at its own rate, looped, like a live camera.
        return ["-re", "-stream_loop", "-1"] if realtime else []
    raise InvalidInput(f"unsupported stream scheme {scheme!r}")


def _audio_options(plan: RecordPlan) -> tuple[list[str], list[str]]:
    """(argv part, warnings) for the audio of ``plan``."""
    if plan.source is None:
        return (
            ["-map", "0:a:0?", "-c:a", "aac"],
            ["source not probed: audio, if any, transcoded to AAC"],
        )
    codec = plan.source.audio_codec
    if codec is None:
        return ["-an"], []
    if codec in MP4_AUDIO:
        return ["-map", "0:a:0", "-c:a", "copy"], []
    if plan.audio_policy == "drop":
        return ["-an"], [f"audio {codec} cannot be stored in the segment container: dropped"]
    # G.711 is 8 kHz mono, where AAC tops out near 48 kbit/s: 32k is plenty.
    return (
        ["-map", "0:a:0", "-c:a", "aac", "-b:a", "32k"],
        [f"audio {codec} cannot be stored in the segment container: transcoded to AAC"],
    )


def _jump_options(plan: RecordPlan) -> list[str]:
    """Live RTSP sources carry the camera's own timestamps: replace jumped ones (see
    ``_DTS_REPLACED``). HTTP MJPEG is stamped by our wall clock; a file is replayed."""
    if _scheme(plan.url) not in ("rtsp", "rtsps"):
        return []
    return ["-dts_error_threshold", f"{plan.clock_jump:g}"]


# The live window: a second output of the same ffmpeg (the same packets, copied, never
# re-encoded), HLS with fMP4 parts into a private directory, LIVE_PARTS of them kept and
# older ones deleted as it rolls. Parts are cut at keyframes (a copy cannot cut elsewhere):
# a camera sending one keyframe every 2 s gives 2 s parts. Video only: audio would be
# transcoded a second time for nothing a live wall plays.
LIVE_PLAYLIST = "live.m3u8"
LIVE_INIT = "init.mp4"
LIVE_PART_PATTERN = "part-%d.m4s"
LIVE_PART_SECONDS = 1
LIVE_PARTS = 4


def live_options(
    live_dir: Path, video_opts: Sequence[str] = ("-map", "0:v:0", "-c:v", "copy")
) -> list[str]:
    """The argv of the live output into ``live_dir`` (its playlist, init section, parts).
    The hls muxer expands %-patterns in the part path only: the directory is escaped."""
    escaped = str(live_dir).replace("%", "%%")
    return [
        *video_opts,
        "-an",
        "-f",
        "hls",
        "-hls_time",
        str(LIVE_PART_SECONDS),
        "-hls_list_size",
        str(LIVE_PARTS),
        "-hls_flags",
        "delete_segments+independent_segments+omit_endlist+temp_file",
        "-hls_segment_type",
        "fmp4",
        "-hls_fmp4_init_filename",
        LIVE_INIT,
        "-hls_segment_filename",
        f"{escaped}/{LIVE_PART_PATTERN}",
        str(live_dir / LIVE_PLAYLIST),
    ]


def build_record_command(plan: RecordPlan) -> RecordCommand:
    """The argv of the ffmpeg that records ``plan.camera`` into segments. Pure."""
    if plan.segment_seconds < 1:
        raise InvalidInput("segment length must be at least 1 second")
    if plan.clock_jump <= 0:
        raise InvalidInput("the clock jump threshold must be positive")
    warnings: list[str] = []
    video = plan.source.video_codec if plan.source else None
    if plan.source is not None and video is None:
        raise InvalidInput(f"camera {plan.camera}: the source has no video stream")
    video_opts = ["-map", "0:v:0", "-c:v", "copy"]
    if video is None or video in MP4_VIDEO:
        ext, fmt = (
            "mp4",
            ["-segment_format", "mp4", "-segment_format_options", MP4_OPTIONS],
        )
        if video == "hevc":
            video_opts += ["-tag:v", "hvc1"]  # the tag players expect for H.265 in MP4
    else:
        ext, fmt = "mkv", ["-segment_format", "matroska"]
        warnings.append(f"video {video} is stored in Matroska segments (copied, not transcoded)")
    audio_opts, audio_warnings = _audio_options(plan)
    warnings += audio_warnings
    # The segment muxer expands %-patterns in the whole path: escape the directory.
    pattern = str(plan.spool_dir / f"{plan.run_id}-%08d.{ext}")
    escaped = str(plan.spool_dir).replace("%", "%%") + f"/{plan.run_id}-%08d.{ext}"
    argv = [
        plan.ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "warning",
        "-fflags",
        "+genpts",
        *_jump_options(plan),
        *input_options(plan.url, plan.input_timeout),
        "-i",
        input_target(plan.url),
        *video_opts,
        *audio_opts,
        # Evaluated as each segment opens: its header carries its wall-clock second,
        # and replayed (looped) footage never repeats a segment's bytes.
        "-metadata",
        "creation_time=now",
        "-f",
        "segment",
        "-segment_time",
        str(plan.segment_seconds),
        "-reset_timestamps",
        "1",
        *fmt,
        "-segment_list",
        "pipe:1",
        "-segment_list_type",
        "csv",
        escaped,
    ]
    # Only H.264/H.265 go into fMP4 (what a browser's MSE takes); MJPEG has no live window.
    if plan.live_dir is not None and ext == "mp4":
        argv += live_options(plan.live_dir, video_opts)
    return RecordCommand(argv, ext, pattern, tuple(warnings))


# ---- the shell: spawning ------------------------------------------------------------


@dataclass(frozen=True)
class SegmentDone:
    """A segment ffmpeg listed as finished, with the wall-clock time we received it."""

    filename: str
    stream_start: float
    stream_end: float
    received: datetime


@dataclass(frozen=True)
class ClockJump:
    """The camera's timestamps jumped by ``seconds`` (forward if positive), noticed at
    ``at`` (our wall clock). ffmpeg keeps the timeline continuous across it."""

    seconds: float
    at: datetime


@dataclass(frozen=True)
class ToolOutput:
    returncode: int
    stdout: str
    stderr: str


_PR_SET_PDEATHSIG = 1
_libc: Any = None


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it if the recorder dies (even by kill -9),
    so an orphan never keeps writing into the spool; SIGTERM lets it close its segment."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _preexec() -> Callable[[], None] | None:
    global _libc
    if not sys.platform.startswith("linux"):
        return None
    if _libc is None:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
    return _die_with_parent


def run_tool(argv: Sequence[str], *, timeout: float) -> ToolOutput:
    """Run a short ffmpeg-family tool (ffprobe) to completion."""
    try:
        done = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ConfigError(f"{argv[0]} not found: install ffmpeg") from None
    except subprocess.TimeoutExpired:
        raise InvalidInput(f"{Path(argv[0]).name} timed out after {timeout:.0f} s") from None
    return ToolOutput(done.returncode, done.stdout, done.stderr)


def _parse_list_line(line: str) -> tuple[str, float, float] | None:
    try:
        [row] = list(csv.reader([line]))
        name, start, end = row[0], float(row[1]), float(row[2])
    except (ValueError, IndexError):
        return None
    if not name or "/" in name or name.startswith("."):
        return None
    return name, start, end


class FfmpegProcess:
    """One running ffmpeg. stdout carries the segment list (parsed by a thread that calls
    ``on_segment``); stderr is read by another thread into a bounded buffer, so neither
    pipe can fill up and block ffmpeg."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        on_segment: Callable[[FfmpegProcess, SegmentDone], None],
        clock: Callable[[], datetime],
        secret_url: str | None = None,
        stderr_lines: int = 200,
        on_clock_jump: Callable[[FfmpegProcess, ClockJump], None] | None = None,
        clock_jump: float = 2.0,
        video_stream: int = 0,
    ) -> None:
        self._secrets = secrets_of(secret_url)  # masked in every stderr line kept
        self._on_clock_jump = on_clock_jump
        self._jump_threshold = clock_jump
        self._video_stream = video_stream
        # How far the camera's timestamps are from ffmpeg's timeline now (None: in step),
        # when that was last said, and when a segment was last listed (monotonic).
        self._camera_offset: float | None = None
        self._offset_said = 0.0
        self._listed = 0.0
        self._jump_lock = threading.Lock()
        self._stderr: deque[str] = deque(maxlen=stderr_lines)
        self._on_segment = on_segment
        self._clock = clock
        try:
            self._popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                # Only a prctl call runs between fork and exec (see _die_with_parent).
                preexec_fn=_preexec(),
            )
        except FileNotFoundError:
            raise ConfigError(f"{argv[0]} not found: install ffmpeg") from None
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_list, args=(self._popen.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self._popen.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._closed = False
        self._terminated = False

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    def _read_list(self, stream: IO[str]) -> None:
        for line in stream:
            parsed = _parse_list_line(line.strip())
            if parsed is None:
                log.warning("ffmpeg pid %d: unexpected segment list line", self.pid)
                continue
            self._listed = time.monotonic()
            self._on_segment(self, SegmentDone(parsed[0], parsed[1], parsed[2], self._clock()))

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            text = scrub(line.rstrip(), self._secrets)
            replaced = _DTS_REPLACED.match(text)
            if replaced:
                self._replaced(int(replaced[1]), int(replaced[2]), int(replaced[3]))
                continue  # once per packet: kept out of the tail that explains failures
            if _PTS_REPLACED.match(text):
                continue
            if _NOISE.search(text):
                log.debug("ffmpeg pid %d: %s", self.pid, text)
                continue
            if text:
                self._stderr.append(text)
                log.debug("ffmpeg pid %d: %s", self.pid, text)

    def _replaced(self, dts: int, predicted_us: int, stream: int) -> None:
        """ffmpeg replaced a jumped timestamp: report the jump the first time this offset
        is seen (an offset that drifts by less than the threshold is the same jump)."""
        if stream != self._video_stream:
            return  # audio time bases vary; the video one is always 90 kHz
        offset = dts / RTP_VIDEO_CLOCK - predicted_us / 1_000_000
        with self._jump_lock:
            before, self._camera_offset = self._camera_offset, offset
            self._offset_said = time.monotonic()
        jump = offset - (before or 0.0)
        if (before is None or abs(jump) > self._jump_threshold) and self._on_clock_jump:
            self._on_clock_jump(self, ClockJump(jump, self._clock()))

    def clock_settled(self, quiet: float) -> ClockJump | None:
        """If the camera's timestamps were off but ffmpeg has listed a segment ``quiet``
        seconds after it last replaced one, they came back into step: that is a jump too
        (the opposite one), returned once."""
        with self._jump_lock:
            if self._camera_offset is None or self._listed - self._offset_said < quiet:
                return None
            back, self._camera_offset = -self._camera_offset, None
        return ClockJump(back, self._clock())

    def stderr_tail(self, lines: int = 5) -> list[str]:
        return list(self._stderr)[-lines:]

    def poll(self) -> int | None:
        """The exit code once ffmpeg has ended (its pipes are then drained and closed)."""
        code = self._popen.poll()
        if code is not None:
            self.close()
        return code

    def holds(self, path: Path) -> bool:
        """Whether ffmpeg still has ``path`` open (Linux /proc; elsewhere, False)."""
        fd_dir = Path(f"/proc/{self.pid}/fd")
        target = str(path.resolve())
        try:
            for fd in fd_dir.iterdir():
                try:
                    if str(fd.readlink()) == target:
                        return True
                except OSError:
                    continue
        except OSError:
            return False
        return False

    def terminate(self) -> None:
        """Ask ffmpeg to stop: it finishes the open segment and lists it. Only once: a
        second signal makes ffmpeg abort all I/O, the trailer of that segment included."""
        if not self._terminated and self._popen.poll() is None:
            self._terminated = True
            self._popen.terminate()

    def stop(self, timeout: float = 10.0) -> int:
        """terminate, wait up to ``timeout``, then kill; the exit code."""
        self.terminate()
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("ffmpeg pid %d ignored SIGTERM for %.0f s: killing it", self.pid, timeout)
            self._popen.kill()
            self._popen.wait()
        self.close()
        return self._popen.returncode

    def close(self) -> None:
        """After exit: wait for the reader threads (every listed segment has then been
        delivered to ``on_segment``) and close the pipes."""
        if self._closed or self._popen.poll() is None:
            return
        self._closed = True
        for thread in self._threads:
            thread.join(timeout=10)
        for stream in (self._popen.stdout, self._popen.stderr):
            if stream is not None:
                stream.close()


# ---- keyframe sampling (health/frames.py): builder and raw-video pipe ----------------

# Tamper detection looks at whole-frame statistics, so a small frame is plenty and keeps
# a keyframe at 57.6 kB of 8-bit grey.
KEYFRAME_WIDTH = 320
KEYFRAME_HEIGHT = 180


@dataclass(frozen=True)
class KeyframePlan:
    """One ffmpeg run that decodes only the keyframes of a file or stream to raw grey."""

    url: str = field(repr=False)
    width: int = KEYFRAME_WIDTH
    height: int = KEYFRAME_HEIGHT
    # None: every keyframe of the input (a file); a live stream needs a limit.
    max_frames: int | None = None
    input_timeout: float = 10.0
    ffmpeg: str = "ffmpeg"


def build_keyframe_command(plan: KeyframePlan) -> list[str]:
    """argv of ffmpeg writing the keyframes of ``plan.url`` to stdout as raw ``gray``
    frames of ``width`` x ``height`` bytes each, in input order. Pure.

    ``-skip_frame nokey`` makes the decoder drop every frame that is not a keyframe
    before decoding it (the cheap part of a stream is the demuxing); passthrough timing
    keeps ffmpeg from duplicating or dropping frames to reach a constant rate. Files are
    read once at full speed (no ``-re``, no loop)."""
    if not (16 <= plan.width <= 1920 and 16 <= plan.height <= 1080):
        raise InvalidInput("keyframe size must be between 16x16 and 1920x1080")
    if plan.max_frames is not None and plan.max_frames < 1:
        raise InvalidInput("the number of keyframes must be at least 1")
    limit = [] if plan.max_frames is None else ["-frames:v", str(plan.max_frames)]
    return [
        plan.ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-skip_frame",
        "nokey",
        # One decoding thread: frame threads each hold a frame back, and with only
        # keyframes decoded that delays each one by several GOPs (5 s seen here).
        "-threads",
        "1",
        # A live input is otherwise analysed for 5 s before its first frame comes out.
        "-analyzeduration",
        "1000000",
        *input_options(plan.url, plan.input_timeout, realtime=False),
        "-i",
        input_target(plan.url),
        "-map",
        "0:v:0",
        "-an",
        "-sn",
        "-dn",
        "-fps_mode",
        "passthrough",
        "-vf",
        f"scale={plan.width}:{plan.height}:flags=area",
        "-pix_fmt",
        "gray",
        *limit,
        # Each frame leaves at once: a live keyframe must not wait in the output buffer
        # for the next one (2 s later) before it can be analysed.
        "-flush_packets",
        "1",
        "-f",
        "rawvideo",
        "pipe:1",
    ]


class RawVideoPipe:
    """One short-lived ffmpeg whose stdout is raw video, read frame by frame with a
    deadline per read; stderr goes to a bounded buffer by a thread (scrubbed of the URL).
    Use as a context manager: leaving it stops ffmpeg (terminate, wait, kill)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        secret_url: str | None = None,
        stderr_lines: int = 50,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self._secrets = secrets_of(secret_url)  # masked in every stderr line kept
        self._stderr: deque[str] = deque(maxlen=stderr_lines)
        try:
            self._popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=_preexec(),
                pass_fds=tuple(pass_fds),
            )
        except FileNotFoundError:
            raise ConfigError(f"{argv[0]} not found: install ffmpeg") from None
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._stdout = self._popen.stdout
        self._reader = threading.Thread(
            target=self._read_stderr, args=(self._popen.stderr,), daemon=True
        )
        self._reader.start()

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in stream:
            text = scrub(raw.decode("utf-8", "replace").rstrip(), self._secrets)
            if text:
                self._stderr.append(text)

    def read_exact(self, size: int, timeout: float) -> bytes | None:
        """The next ``size`` bytes; None at end of output (a partial frame is dropped).
        Raises InvalidInput when nothing complete arrives within ``timeout`` seconds."""
        fd = self._stdout.fileno()
        chunks: list[bytes] = []
        have = 0
        deadline = time.monotonic() + timeout
        while have < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise InvalidInput(f"ffmpeg gave no frame within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, size - have)
            if not chunk:
                return None
            chunks.append(chunk)
            have += len(chunk)
        return b"".join(chunks)

    def stderr_tail(self, lines: int = 3) -> list[str]:
        self._reader.join(timeout=1)  # after exit, let the thread drain the pipe
        return list(self._stderr)[-lines:]

    def stop(self, timeout: float = 5.0) -> int:
        """terminate, wait up to ``timeout``, then kill; the exit code."""
        if self._popen.poll() is None:
            self._popen.terminate()
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.wait()
        self._stdout.close()
        return self._popen.returncode

    def wait(self, timeout: float) -> int:
        """The exit code once ffmpeg ends by itself (killed after ``timeout``)."""
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return self.stop()

    def __enter__(self) -> RawVideoPipe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._popen.stderr is not None:
            self._reader.join(timeout=1)
            self._popen.stderr.close()


def build_health_probe_command(plan: KeyframePlan, stats_fd: int) -> list[str]:
    """The keyframe command of ``plan`` with a second output first: every video packet,
    stream-copied (never decoded), as a ``framecrc`` line (stream, dts, pts, duration,
    size, crc) on file descriptor ``stats_fd``. One connection to the camera then gives
    the stream's frame rate and bitrate and the keyframes for tamper analysis. Pure."""
    if stats_fd < 3:
        raise InvalidInput("the stats pipe must be a descriptor other than stdin/out/err")
    argv = build_keyframe_command(plan)
    first_output = argv.index("-map")
    stats = ["-map", "0:v:0", "-c", "copy", "-flush_packets", "1"]
    stats += ["-f", "framecrc", f"pipe:{stats_fd}"]
    return argv[:first_output] + stats + argv[first_output:]


# ---- timeline thumbnails (issue 22, item 2) -----------------------------------------

THUMBNAIL_WIDTH = 160
THUMBNAIL_MAX_BYTES = 1 << 20  # a 160 px JPEG is a few kB; more means something is wrong


def build_thumbnail_command(
    offset: float, *, width: int = THUMBNAIL_WIDTH, ffmpeg: str = "ffmpeg"
) -> list[str]:
    """argv of ffmpeg reading a segment (the bytes the enforcement point cut) on stdin
    and writing one JPEG of the frame ``offset`` seconds into it, ``width`` pixels wide,
    to stdout. Pure. ``-ss`` after ``-i`` decodes up to the instant (a pipe cannot seek)."""
    if not 16 <= width <= 640:
        raise InvalidInput("a thumbnail is 16 to 640 pixels wide")
    if offset < 0:
        raise InvalidInput("a thumbnail's offset cannot be negative")
    return [
        ffmpeg,
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-threads",
        "1",
        "-i",
        "pipe:0",
        "-ss",
        f"{offset:.3f}",
        "-map",
        "0:v:0",
        "-an",
        "-frames:v",
        "1",
        "-vf",
        f"scale={width}:-2",
        "-c:v",
        "mjpeg",
        "-q:v",
        "5",
        "-f",
        "image2pipe",
        "pipe:1",
    ]


def run_thumbnail(argv: Sequence[str], data: bytes, *, timeout: float) -> bytes:
    """Run a thumbnail command on ``data``; the JPEG, bounded in time and size."""
    try:
        done = subprocess.run(
            list(argv), input=data, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ConfigError(f"{argv[0]} not found: install ffmpeg") from None
    except subprocess.TimeoutExpired:
        raise InvalidInput(f"the thumbnail took more than {timeout:.0f} s") from None
    out = done.stdout
    if done.returncode != 0 or not out.startswith(b"\xff\xd8") or len(out) > THUMBNAIL_MAX_BYTES:
        raise InvalidInput("no frame could be decoded there for a thumbnail")
    return out
