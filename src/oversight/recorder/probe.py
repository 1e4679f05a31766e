"""ffprobe: what a finished segment holds, and what a camera's stream carries.

Argv builders and parsers are pure; :func:`probe_segment` and :func:`probe_source` run
ffprobe through ``ffmpeg.run_tool`` (an RTSP source is first asked with a DESCRIBE).
A segment's duration comes from its video packets (the last packet's end minus the
first's start), not from the container header: a segment cut short by a killed
ffmpeg lists fragments whose data never arrived.
An unreadable file raises :class:`~oversight.errors.InvalidInput` with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight.errors import InvalidInput
from oversight.media.ffmpeg import SourceInfo, input_options, input_target, run_tool
from oversight.recorder.describe import describe
from oversight.redaction import scrub, secrets_of


@dataclass(frozen=True)
class SegmentProbe:
    duration: float  # seconds of video
    video_codec: str
    audio_codec: str | None
    packets: int  # video packets
    truncated: bool  # the demuxer met a partial file (killed mid-write)


def segment_probe_argv(path: Path, ffprobe: str = "ffprobe") -> list[str]:
    return [
        ffprobe,
        "-v",
        "error",
        "-show_entries",
        "stream=index,codec_type,codec_name:packet=stream_index,pts_time,dts_time,duration_time",
        "-of",
        "json",
        f"file:{path}",
    ]


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _time(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _first(streams: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((s for s in streams if s.get("codec_type") == kind), None)


def _load(stdout: str) -> dict[str, Any]:
    try:
        data = json.loads(stdout or "{}")
    except json.JSONDecodeError:
        raise InvalidInput("ffprobe printed no readable JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("ffprobe printed no readable JSON")
    return data


def parse_segment_probe(returncode: int, stdout: str, stderr: str) -> SegmentProbe:
    """Pure: ffprobe's output for a segment -> SegmentProbe, or InvalidInput."""
    if returncode != 0:
        raise InvalidInput(f"unreadable segment: {_last_line(stderr)}")
    data = _load(stdout)
    streams = data.get("streams") or []
    video = _first(streams, "video")
    if video is None:
        raise InvalidInput("unreadable segment: no video stream")
    audio = _first(streams, "audio")
    index = video.get("index")
    starts: list[float] = []
    ends: list[float] = []
    for packet in data.get("packets") or []:
        if packet.get("stream_index") != index:
            continue
        at = _time(packet.get("pts_time"))
        if at is None:
            at = _time(packet.get("dts_time"))
        if at is None:
            continue
        starts.append(at)
        ends.append(at + (_time(packet.get("duration_time")) or 0.0))
    if not starts:
        raise InvalidInput("unreadable segment: no video packets")
    duration = max(ends) - min(starts)
    ordered = sorted(starts)
    if len(ordered) > 1:
        # The last frame lasts until the next would have come: the mean spacing of the
        # frames (wall-clock stamps jitter, so not any one gap). A declared packet
        # duration can be a muxer's guess (MJPEG in Matroska with wall-clock timestamps
        # says 40 ms for frames 100 ms apart), which left every segment a fraction of a
        # frame short and a hole before the next one.
        span = ordered[-1] - ordered[0]
        duration = span + span / (len(ordered) - 1)
    if duration <= 0:
        raise InvalidInput("unreadable segment: zero video duration")
    return SegmentProbe(
        duration=duration,
        video_codec=str(video.get("codec_name") or "unknown"),
        audio_codec=str(audio.get("codec_name")) if audio and audio.get("codec_name") else None,
        packets=len(starts),
        truncated="partial file" in stderr,
    )


def probe_segment(path: Path, *, ffprobe: str = "ffprobe", timeout: float = 60.0) -> SegmentProbe:
    if not path.is_file():
        raise InvalidInput(f"unreadable segment: {path.name} does not exist")
    out = run_tool(segment_probe_argv(path, ffprobe), timeout=timeout)
    stderr = out.stderr.replace(f"file:{path}", path.name)
    return parse_segment_probe(out.returncode, out.stdout, stderr)


def source_probe_argv(url: str, timeout: float, ffprobe: str = "ffprobe") -> list[str]:
    return [
        ffprobe,
        "-v",
        "error",
        *input_options(url, timeout, realtime=False),
        "-show_entries",
        "stream=codec_type,codec_name",
        "-of",
        "json",
        input_target(url),
    ]


def parse_source_probe(returncode: int, stdout: str, stderr: str) -> SourceInfo:
    """Pure: ffprobe's output for a stream -> its codecs (stderr is scrubbed by the caller)."""
    if returncode != 0:
        raise InvalidInput(f"source unavailable: {_last_line(stderr)}")
    streams = _load(stdout).get("streams") or []
    video = _first(streams, "video")
    if video is None:
        raise InvalidInput("source has no video stream")
    audio = _first(streams, "audio")
    return SourceInfo(
        video_codec=str(video.get("codec_name") or "unknown"),
        audio_codec=str(audio["codec_name"]) if audio and audio.get("codec_name") else None,
    )


def probe_source(url: str, *, timeout: float = 10.0, ffprobe: str = "ffprobe") -> SourceInfo:
    """Which codecs the camera sends (decides how audio is handled). Errors are scrubbed.

    An RTSP camera is asked with one DESCRIBE first (:mod:`describe`, milliseconds of
    CPU); ffprobe runs only when that cannot tell (and for every other kind of source)."""
    described = describe(url, timeout=timeout)
    if described is not None:
        return described
    return ffprobe_source(url, timeout=timeout, ffprobe=ffprobe)


def ffprobe_source(url: str, *, timeout: float = 10.0, ffprobe: str = "ffprobe") -> SourceInfo:
    """:func:`probe_source` by ffprobe alone."""
    out = run_tool(source_probe_argv(url, timeout, ffprobe), timeout=timeout * 2 + 10)
    return parse_source_probe(out.returncode, out.stdout, scrub(out.stderr, secrets_of(url)))
