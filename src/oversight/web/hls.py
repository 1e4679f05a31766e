"""HLS from sealed segments, pure: where a fragmented MP4 splits, and the playlist.

A sealed segment (``movflags=frag_keyframe+empty_moov+default_base_moof``) is
``ftyp`` + ``moov`` (no samples) followed by ``moof`` + ``mdat`` pairs. HLS serves
the part before the first ``moof`` as the segment's initialisation section
(``EXT-X-MAP``) and the rest as its media: both are byte ranges of the sealed file, so
no byte is re-encoded. The recorder cuts with ``-reset_timestamps 1``: every segment
starts at time zero and has its own init section, hence ``EXT-X-DISCONTINUITY``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from oversight.errors import InvalidInput

# Sample entries Chromium's MSE decodes here: H.264 only (H.265 needs hardware).
PLAYABLE_VIDEO = frozenset({"avc1", "avc3"})
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl"})
_MAX_BOXES = 100_000
_MAX_INIT = 16 << 20  # a moov without samples is a few KB; refuse to read more


@dataclass(frozen=True)
class Parts:
    """Byte ranges [start, end) of one segment file."""

    init: tuple[int, int]
    media: tuple[int, int]


def _boxes(f: BinaryIO, size: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset, size) of each top-level box of a file of ``size`` bytes."""
    offset = 0
    count = 0
    while offset < size:
        count += 1
        if count > _MAX_BOXES:
            raise InvalidInput("too many boxes: not a segment")
        f.seek(offset)
        header = f.read(16)
        if len(header) < 8:
            raise InvalidInput(f"truncated box header at byte {offset}")
        box_size, kind = struct.unpack(">I4s", header[:8])
        if box_size == 1:
            if len(header) < 16:
                raise InvalidInput(f"truncated box header at byte {offset}")
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - offset
        if box_size < 8 or offset + box_size > size:
            raise InvalidInput(f"box {kind!r} at byte {offset} does not fit the file")
        yield kind, offset, box_size
        offset += box_size


def split(f: BinaryIO, size: int) -> Parts:
    """Init (ftyp+moov, before the first moof) and media (first moof to the end). The
    boxes must tile the whole file: a damaged segment is refused, not half served."""
    kinds: list[bytes] = []
    first_moof = None
    for kind, offset, _ in _boxes(f, size):
        if not kinds and kind != b"ftyp":
            raise InvalidInput("not an MP4 segment: it does not start with ftyp")
        if kind == b"moof" and first_moof is None:
            if b"moov" not in kinds:
                raise InvalidInput("not a fragmented MP4: moof before moov")
            if offset > _MAX_INIT:
                raise InvalidInput("the initialisation section is implausibly large")
            first_moof = offset
        kinds.append(kind)
    if first_moof is None:
        raise InvalidInput("not a fragmented MP4: no moof box")
    return Parts((0, first_moof), (first_moof, size))


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        head = 8
        if size == 1 and pos + 16 <= end:
            size, head = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            return
        yield kind, pos + head, pos + size
        pos += size


def video_codec(init: bytes) -> str | None:
    """The sample entry (``avc1``, ``hvc1``, ...) of the first video track, or None."""

    for kind, lo, hi in _children(init, 0, len(init)):
        if kind == b"moov":
            for sub, slo, shi in _children(init, lo, hi):
                if sub != b"trak":
                    continue
                found = _track_video(init, slo, shi)
                if found is not None:
                    return found
    return None


def _track_video(data: bytes, start: int, end: int) -> str | None:
    """The sample entry of a trak whose handler is ``vide``."""
    handler = None
    entry = None
    stack = [(start, end)]
    while stack:
        lo, hi = stack.pop()
        for kind, clo, chi in _children(data, lo, hi):
            if kind == b"hdlr" and chi - clo >= 12:
                handler = data[clo + 8 : clo + 12]
            elif kind == b"stsd" and chi - clo >= 16:
                entry = data[clo + 12 : clo + 16].decode("latin-1")
            elif kind in _CONTAINERS:
                stack.append((clo, chi))
    return entry if handler == b"vide" else None


def playable(codec: str | None) -> bool:
    return codec in PLAYABLE_VIDEO


@dataclass(frozen=True)
class Entry:
    """One segment of a playlist."""

    start: datetime
    end: datetime
    init_url: str
    media_url: str


def playlist(entries: Sequence[Entry]) -> str:
    """A VOD media playlist: each segment with its own init section, a discontinuity
    between segments (timestamps restart at zero in each), and its wall-clock start."""
    if not entries:
        raise InvalidInput("a playlist needs at least one segment")
    durations = [max((e.end - e.start).total_seconds(), 0.001) for e in entries]
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{math.ceil(max(durations))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    for i, (entry, duration) in enumerate(zip(entries, durations, strict=True)):
        if i:
            lines.append("#EXT-X-DISCONTINUITY")
        stamp = entry.start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines += [
            f'#EXT-X-MAP:URI="{entry.init_url}"',
            f"#EXT-X-PROGRAM-DATE-TIME:{stamp}",
            f"#EXTINF:{duration:.3f},",
            entry.media_url,
        ]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
