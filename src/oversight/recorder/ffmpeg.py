"""ffmpeg: the pure argv builder for one camera, and the one place that spawns ffmpeg.

Builder (pure, no I/O): :func:`input_options`, :func:`build_record_command`.
Shell: :class:`FfmpegProcess` (the long-running recorder of one camera) and
:func:`run_tool` (short ffprobe runs), the only spawners of ffmpeg-family programs.

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
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import unquote, urlsplit

from oversight.errors import ConfigError, InvalidInput
from oversight.recorder.scrub import scrub

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
    ffmpeg: str = "ffmpeg"


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


def build_record_command(plan: RecordPlan) -> RecordCommand:
    """The argv of the ffmpeg that records ``plan.camera`` into segments. Pure."""
    if plan.segment_seconds < 1:
        raise InvalidInput("segment length must be at least 1 second")
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
    ) -> None:
        self._url = secret_url
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
            self._on_segment(self, SegmentDone(parsed[0], parsed[1], parsed[2], self._clock()))

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            text = scrub(line.rstrip(), self._url)
            if text:
                self._stderr.append(text)
                log.debug("ffmpeg pid %d: %s", self.pid, text)

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
