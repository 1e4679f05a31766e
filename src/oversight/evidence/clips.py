"""Cutting a clip from sealed segments: pure argv builders, and one function that runs them.

A clip never holds a frame, video or audio, outside the range asked for (issue 18,
finding 2): like playback, it is **cut at keyframes, inward**. Each sealed fragmented
MP4 segment overlapping the range is cut by ``media/trim.py`` (the enforcement point's
cutter, not a second one) to its init section and the longest run of whole fragments
whose every sample is presented inside the range: from the first keyframe at or after
the range start to the last fragment that ends by the range end. Those sealed bytes
are written to a private temporary file per segment, and ffmpeg's concat demuxer joins
them: an ``ffconcat`` list names each cut file with an ``inpoint`` (where its first
sample plays, so nothing is sought back to an earlier keyframe: there is none in the
file) and a ``duration`` (up to where the next piece begins in wall time, so the
clip's timeline keeps the wall-clock gaps between segments). A segment that is not
fragmented MP4 (Matroska) cannot be cut this way: it is taken whole when the range
covers it, and refused when it covers only part of it. A range holding no keyframe
yields no clip at all (:class:`InvalidInput`, before anything is written).

Without a watermark or masks the streams are copied (``-c copy``). When every segment
has the same codec setup (codec and extradata, as one recorder run writes them), the
demuxer's automatic conversion is off and the clip's packets are the recorded packets
byte for byte; otherwise H.264 packets pass through ``h264_mp4toannexb``, which
repeats the parameter sets in-band at keyframes (the coded pictures stay unchanged).

A visible watermark or privacy masks need new pixels, so the video is re-encoded
(H.264, audio still copied). Masks are polygons in frame-relative coordinates
(0..1, as cameras keep them); each becomes black filled ``drawbox`` strips that cover
it completely (a strip is the bounding box of the polygon's slice, so masking errs on
the side of hiding more; a rectangle is exactly one box). The watermark is
``drawtext`` from a text file when a font is available, else a solid band.

Pure: :func:`plan_pieces`, :func:`lay_out`, :func:`concat_list`, :func:`mask_boxes`,
:func:`mask_filters`, :func:`watermark_filter`, :func:`build_cut_command`,
:func:`codec_setup_argv`, :func:`parse_codec_setup`.
Shell: :func:`plan_cut` (reads the segments' box structure), :func:`find_font`,
:func:`codec_setup`, :func:`cut_clip` (through ``media.ffmpeg.run_tool``).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Literal

from oversight.errors import InvalidInput
from oversight.media import trim
from oversight.media.ffmpeg import run_tool

Point = tuple[float, float]
Polygon = Sequence[Sequence[float]]  # [[x, y], ...], 0 <= x, y <= 1
FontChoice = Path | Literal["auto"] | None  # a font file, the first installed one, or none

UNIT = 1_000_000  # micro-units: offsets in microseconds, coordinates in millionths
MASK_STRIPS = 48
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
)


@dataclass(frozen=True)
class SegmentSpan:
    """A sealed segment's file and the wall-clock time it covers."""

    path: Path
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Piece:
    """One entry of the concat list: offsets in microseconds from the file's start."""

    span: SegmentSpan
    inpoint_us: int | None = None
    outpoint_us: int | None = None
    duration_us: int | None = None  # how long it lasts in the clip's timeline


@dataclass(frozen=True)
class Box:
    """A rectangle in millionths of the frame: [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int


def _micros(seconds: float | int) -> int:
    return round(seconds * UNIT)


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"{what} must be timezone-aware")
    return moment


def plan_pieces(spans: Sequence[SegmentSpan], start: datetime, end: datetime) -> list[Piece]:
    """The segments overlapping [start, end), in time order, with in and out points."""
    if _aware(end, "the clip end") <= _aware(start, "the clip start"):
        raise InvalidInput("the clip end must be after its start")
    chosen = sorted((s for s in spans if s.start < end and s.end > start), key=lambda s: s.start)
    if not chosen:
        raise InvalidInput(f"no sealed footage between {start.isoformat()} and {end.isoformat()}")
    pieces = []
    for span in chosen:
        inpoint = _micros((start - span.start).total_seconds()) if start > span.start else None
        outpoint = _micros((end - span.start).total_seconds()) if end < span.end else None
        pieces.append(Piece(span, inpoint, outpoint))
    return pieces


def _seconds(micros: int) -> str:
    return f"{micros // UNIT}.{micros % UNIT:06d}"


def _quote(path: Path) -> str:
    text = str(path)
    if "\n" in text or "\r" in text or not path.is_absolute():
        raise InvalidInput(f"segment path {text!r} must be absolute and on one line")
    return "'" + text.replace("'", "'\\''") + "'"


def concat_list(pieces: Sequence[Piece]) -> str:
    """The ffconcat file for ``pieces``."""
    lines = ["ffconcat version 1.0"]
    for piece in pieces:
        lines.append(f"file {_quote(piece.span.path)}")
        if piece.inpoint_us is not None:
            lines.append(f"inpoint {_seconds(piece.inpoint_us)}")
        if piece.outpoint_us is not None:
            lines.append(f"outpoint {_seconds(piece.outpoint_us)}")
        if piece.duration_us is not None:
            lines.append(f"duration {_seconds(piece.duration_us)}")
    return "\n".join(lines) + "\n"


# ---- the inward cut -------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """What of one sealed segment a clip holds: the wall times of its first presented
    sample and of the end of its last, and where it begins in the clip's timeline.

    ``parts``: the init section and the media byte range of the segment file cut at
    keyframes inward (``media/trim.py``), or None when the whole file is taken (a
    Matroska segment the range covers). ``inpoint_us``: the file time (from the
    file's zero) of ``start``, None for a whole file."""

    span: SegmentSpan
    start: datetime
    end: datetime
    parts: tuple[tuple[int, int], tuple[int, int]] | None
    inpoint_us: int | None
    offset_us: int = 0
    duration_us: int = 0


@dataclass(frozen=True)
class ClipCut:
    """A clip's pieces in time order; it presents samples from ``start`` to ``end``."""

    pieces: Sequence[Taken]

    @property
    def start(self) -> datetime:
        return self.pieces[0].start

    @property
    def end(self) -> datetime:
        return max(p.end for p in self.pieces)

    @property
    def spans(self) -> list[SegmentSpan]:
        return [p.span for p in self.pieces]


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def _when(span: SegmentSpan, seconds: Fraction, *, up: bool) -> tuple[datetime, int]:
    """Wall time and file microseconds of file time ``seconds``, rounded to a whole
    microsecond inward (down for a start, up for an end: both stay inside the range)."""
    micros = math.ceil(seconds * UNIT) if up else math.floor(seconds * UNIT)
    return span.start + timedelta(microseconds=micros), micros


def lay_out(taken: Sequence[Taken]) -> ClipCut:
    """Place the pieces on the clip's timeline. Pure.

    Clip time zero is the first piece's first sample. Each piece lasts until the next
    one begins in wall time (so a gap between segments stays a gap), and never less
    than its own length (segments whose sealed times overlap are played one after
    the other, the later piece shifted by the overlap; the manifest says by how much).
    """
    out: list[Taken] = []
    offset = 0
    for i, piece in enumerate(taken):
        own = max(0, _us(piece.end - piece.start))
        following = taken[i + 1] if i + 1 < len(taken) else None
        length = own if following is None else max(own, _us(following.start - piece.start))
        out.append(replace(piece, offset_us=offset, duration_us=length))
        offset += length
    return ClipCut(out)


def _cut_one(span: SegmentSpan, f: BinaryIO, start: datetime, end: datetime) -> Taken | None:
    size = f.seek(0, 2)
    lo = Fraction(_us(start - span.start), UNIT)
    hi = Fraction(_us(end - span.start), UNIT)
    found = trim.cut(f, size, lo, hi)
    if found.media is None:
        return None
    first, inpoint = _when(span, found.start, up=False)
    last, _ = _when(span, found.end, up=True)
    return Taken(span, first, last, (found.init, found.media), inpoint)


def plan_cut(
    spans: Sequence[SegmentSpan], start: datetime, end: datetime, *, label: str = "the footage"
) -> ClipCut:
    """What of ``spans`` a clip of [start, end) holds, cut at keyframes inward.

    Reads only the box structure of the files (``media/trim.py``). InvalidInput when no
    keyframe of ``label`` lies inside the range, or when the range covers only part of
    a segment that is not fragmented MP4 (which cannot be cut at keyframes)."""
    taken: list[Taken] = []
    for piece in plan_pieces(spans, start, end):
        span = piece.span
        if span.path.suffix.lower() != ".mp4":
            if span.start < start or span.end > end:
                raise InvalidInput(
                    f"segment {span.path.name} of {label} is not fragmented MP4, so it cannot "
                    "be cut at keyframes, and the range covers only part of it "
                    f"({span.start.isoformat()} to {span.end.isoformat()})"
                )
            taken.append(Taken(span, span.start, span.end, None, None))
            continue
        try:
            with span.path.open("rb") as f:
                cut = _cut_one(span, f, start, end)
        except InvalidInput as exc:
            raise InvalidInput(f"unreadable segment {span.path.name}: {exc.message}") from None
        except OSError as exc:
            raise InvalidInput(f"unreadable segment {span.path.name}: {exc.strerror}") from None
        if cut is not None:
            taken.append(cut)
    if not taken:
        raise InvalidInput(
            f"no keyframe of {label} lies inside {start.isoformat()} to {end.isoformat()}: "
            "the range is shorter than the camera's group of pictures, so nothing of it "
            "can be exported"
        )
    return lay_out(taken)


def _write_cut(piece: Taken, out: Path) -> Path:
    """The cut piece as a file of its own (its sealed bytes: init, then the fragments),
    or the segment file itself when it is taken whole."""
    if piece.parts is None:
        return piece.span.path
    with piece.span.path.open("rb") as src, out.open("xb") as dst:
        for lo, hi in piece.parts:
            src.seek(lo)
            left = hi - lo
            while left > 0:
                chunk = src.read(min(left, 1 << 20))
                if not chunk:
                    raise InvalidInput(f"segment {piece.span.path.name} ended while it was cut")
                dst.write(chunk)
                left -= len(chunk)
    return out


def concat_pieces(cut: ClipCut, files: Sequence[Path]) -> list[Piece]:
    """The concat list entries of ``cut`` read from ``files`` (the cut files). Pure."""
    return [
        Piece(SegmentSpan(path, p.span.start, p.span.end), p.inpoint_us, None, p.duration_us)
        for p, path in zip(cut.pieces, files, strict=True)
    ]


# ---- privacy masks ------------------------------------------------------------------


def _points(polygon: Polygon) -> list[Point]:
    points: list[Point] = []
    for point in polygon:
        if len(point) != 2:
            raise InvalidInput(f"mask point {list(point)!r} is not [x, y]")
        x, y = float(point[0]), float(point[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise InvalidInput(f"mask point {[x, y]!r} is outside the frame (0..1)")
        points.append((x, y))
    if len(points) < 3:
        raise InvalidInput("a privacy mask needs at least 3 points")
    return points


def _x_extent(points: Sequence[Point], y0: float, y1: float) -> tuple[float, float] | None:
    """min and max x of the polygon clipped to the band y0 <= y <= y1 (None if empty)."""
    xs: list[float] = []
    n = len(points)
    for i in range(n):
        (ax, ay), (bx, by) = points[i], points[(i + 1) % n]
        if y0 <= ay <= y1:
            xs.append(ax)
        lo, hi = min(ay, by), max(ay, by)
        if hi > lo:  # the edge crosses a band border strictly inside it
            for border in (y0, y1):
                if lo < border < hi:
                    xs.append(ax + (bx - ax) * (border - ay) / (by - ay))
    return (min(xs), max(xs)) if xs else None


def mask_boxes(polygon: Polygon, strips: int = MASK_STRIPS) -> list[Box]:
    """Boxes whose union covers ``polygon``: one per horizontal strip of its height,
    each the bounding box of the polygon's slice, rounded outwards; adjacent strips
    with the same x extent are merged (a rectangle gives exactly one box)."""
    points = _points(polygon)
    top = min(y for _, y in points)
    bottom = max(y for _, y in points)
    if bottom <= top:
        return []
    boxes: list[Box] = []
    for i in range(strips):
        y0 = top + (bottom - top) * i / strips
        y1 = bottom if i == strips - 1 else top + (bottom - top) * (i + 1) / strips
        extent = _x_extent(points, y0, y1)
        if extent is None or extent[1] <= extent[0]:
            continue
        box = Box(
            math.floor(extent[0] * UNIT),
            math.floor(y0 * UNIT),
            math.ceil(extent[1] * UNIT),
            math.ceil(y1 * UNIT),
        )
        last = boxes[-1] if boxes else None
        if last is not None and (last.x0, last.x1) == (box.x0, box.x1) and last.y1 >= box.y0:
            boxes[-1] = Box(last.x0, last.y0, last.x1, box.y1)
        else:
            boxes.append(box)
    return boxes


def _frac(value: int) -> str:
    return f"{value // UNIT}.{value % UNIT:06d}"


def drawbox(box: Box, color: str = "black") -> str:
    """A filled drawbox over ``box``, in pixels rounded outwards at any frame size."""
    x0 = f"floor(iw*{_frac(box.x0)})"
    y0 = f"floor(ih*{_frac(box.y0)})"
    # w/h are at least one pixel, never 0 (which drawbox reads as "the whole frame").
    w = f"max(1\\,ceil(iw*{_frac(box.x1)})-{x0})"
    h = f"max(1\\,ceil(ih*{_frac(box.y1)})-{y0})"
    return f"drawbox=x={x0}:y={y0}:w={w}:h={h}:color={color}:t=fill"


def mask_filters(masks: Sequence[Polygon]) -> list[str]:
    return [drawbox(box) for polygon in masks for box in mask_boxes(polygon)]


# ---- watermark ----------------------------------------------------------------------


def _escape(text: str, special: str) -> str:
    return "".join("\\" + c if c in special else c for c in text)


def filter_value(text: str) -> str:
    """``text`` as a filter option value inside a filtergraph (ffmpeg-filters, "Notes
    on filtergraph escaping"): first the option level, then the graph level."""
    return _escape(_escape(text, "\\':"), "\\'[],;")


def check_watermark_text(text: str) -> str:
    if not text.strip():
        raise InvalidInput("the watermark text is empty")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise InvalidInput("the watermark text holds a control character")
    return text


def watermark_filter(text_file: Path, font: Path | None) -> str:
    """drawtext of ``text_file`` (read verbatim: no %-expansion) at the bottom left, on a
    dark box; without a font, a solid light band across the bottom of the frame."""
    if font is None:
        return "drawbox=x=0:y=ih-ih/10:w=iw:h=ih/10:color=white@0.85:t=fill"
    return (
        f"drawtext=fontfile={filter_value(str(font))}:textfile={filter_value(str(text_file))}"
        ":expansion=none:fontsize=max(12\\,h/24):fontcolor=white:box=1:boxcolor=black@0.6"
        ":boxborderw=6:line_spacing=4:x=12:y=h-th-12"
    )


# ---- the command --------------------------------------------------------------------


def container_for(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix == ".mp4":
        return "mp4"
    if suffix == ".mkv":
        return "matroska"
    raise InvalidInput(f"clip {out.name}: want a .mp4 or .mkv file")


def codec_setup_argv(path: Path, ffprobe: str = "ffprobe") -> list[str]:
    return [
        ffprobe,
        "-v",
        "error",
        "-show_data_hash",
        "sha256",
        "-show_entries",
        "stream=index,codec_type,codec_name,extradata_hash",
        "-of",
        "json",
        f"file:{path}",
    ]


def parse_codec_setup(returncode: int, stdout: str, stderr: str) -> tuple[str, ...]:
    """Pure: each stream's type, codec and extradata hash, as one comparable tuple."""
    if returncode != 0:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        raise InvalidInput(f"unreadable segment: {lines[-1] if lines else 'no output'}")
    try:
        streams = json.loads(stdout or "{}").get("streams") or []
    except (json.JSONDecodeError, AttributeError):
        raise InvalidInput("ffprobe printed no readable JSON") from None
    return tuple(
        f"{s.get('index')}:{s.get('codec_type')}:{s.get('codec_name')}:{s.get('extradata_hash')}"
        for s in streams
    )


def build_cut_command(
    list_file: Path,
    out: Path,
    *,
    filters: Sequence[str] = (),
    same_setup: bool = True,
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """The ffmpeg argv that cuts the ffconcat ``list_file`` into ``out``. Pure.

    No filters: stream copy, with the concat demuxer's packet conversion off when all
    segments share one codec setup (``same_setup``). Filters: the video is re-encoded
    through them.
    """
    fmt = container_for(out)
    if filters:
        codec = ["-vf", ",".join(filters), "-c:v", "libx264", "-preset", "veryfast"]
        codec += ["-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "copy"]
    else:
        codec = ["-c", "copy"]
    muxer = ["-movflags", "+faststart", "-f", "mp4"] if fmt == "mp4" else ["-f", "matroska"]
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-n",  # never overwrite
        "-f",
        "concat",
        "-safe",
        "0",
        "-auto_convert",
        "0" if same_setup and not filters else "1",
        "-i",
        f"file:{list_file}",
        "-map",
        "0:v:0",
        "-map",
        "0:a?",
        "-map_metadata",
        "-1",
        *codec,
        "-avoid_negative_ts",
        "make_zero",
        *muxer,
        f"file:{out}",
    ]


def cut_timeout(start: datetime, end: datetime, *, reencode: bool) -> float:
    seconds = (end - start).total_seconds()
    return 120.0 + seconds * (4.0 if reencode else 0.5)


# ---- the shell ----------------------------------------------------------------------


def codec_setup(path: Path, *, ffprobe: str = "ffprobe", timeout: float = 60.0) -> tuple[str, ...]:
    out = run_tool(codec_setup_argv(path, ffprobe), timeout=timeout)
    return parse_codec_setup(out.returncode, out.stdout, out.stderr.replace(str(path), path.name))


def find_font(candidates: Sequence[str] = FONT_CANDIDATES) -> Path | None:
    """The first installed font among ``candidates`` (None: the watermark is a band)."""
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file():
            return path
    return None


def cut_clip(
    spans: Sequence[SegmentSpan],
    start: datetime,
    end: datetime,
    out: Path,
    *,
    watermark: str | None = None,
    masks: Sequence[Polygon] = (),
    font: FontChoice = "auto",
    ffmpeg: str = "ffmpeg",
    ffprobe: str = "ffprobe",
    timeout: float | None = None,
    label: str = "the footage",
) -> ClipCut:
    """Cut [start, end) from ``spans`` at keyframes inward into ``out`` (which must not
    exist); what the clip holds (see :func:`plan_cut`).

    Stream copy unless ``watermark`` or ``masks`` ask for new pixels (the pixels of the
    cut pieces only). ``font``: a font file for the watermark, None for the band,
    default the first of FONT_CANDIDATES.
    """
    if out.exists():
        raise InvalidInput(f"clip {out} exists already")
    filters = mask_filters(masks)
    reencode = bool(filters) or watermark is not None
    cut = plan_cut(spans, start, end, label=label)
    # Stream copy keeps packets byte for byte only when one codec setup covers them all.
    same = reencode or len({codec_setup(s.path, ffprobe=ffprobe) for s in cut.spans}) == 1
    with tempfile.TemporaryDirectory(prefix="oversight-cut-") as tmp:
        work = Path(tmp)
        files = [
            _write_cut(p, work / f"piece-{i}{p.span.path.suffix.lower()}")
            for i, p in enumerate(cut.pieces)
        ]
        list_file = work / "list.ffconcat"
        list_file.write_text(concat_list(concat_pieces(cut, files)), encoding="utf-8")
        if watermark is not None:
            text_file = work / "watermark.txt"
            text_file.write_text(check_watermark_text(watermark), encoding="utf-8")
            chosen = find_font() if font == "auto" else font
            filters.append(watermark_filter(text_file, chosen))
        argv = build_cut_command(
            list_file.absolute(), out.absolute(), filters=filters, same_setup=same, ffmpeg=ffmpeg
        )
        limit = cut_timeout(cut.start, cut.end, reencode=reencode) if timeout is None else timeout
        try:
            result = run_tool(argv, timeout=limit)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
    if result.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        out.unlink(missing_ok=True)
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise InvalidInput(f"ffmpeg could not cut clip {out.name}: {reason}")
    return cut
