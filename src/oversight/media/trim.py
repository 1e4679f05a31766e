"""Trimming a sealed fragmented MP4 to a time range at keyframes, inward. Pure.

A sealed MP4 segment (``movflags=frag_keyframe+empty_moov+default_base_moof``) is
``ftyp`` + ``moov`` (tracks, no samples) and then ``moof`` + ``mdat`` fragments, a new
fragment at every video keyframe. :func:`cut` keeps the longest run of whole fragments
whose every sample, in every track (video and audio), is presented inside the range:
the run starts with the first fragment that begins with a keyframe at or after the
range start and ends with the last one whose samples all end by the range end. The
result is byte ranges of the sealed file (its init section and that run), so nothing
is re-encoded and every byte served is a byte that was sealed; what lies between the
range edges and the nearest keyframes inside it is not served (up to one group of
pictures, plus one audio frame, at each edge). A range holding no whole fragment
yields no media at all.

Times are those of the file (``-reset_timestamps 1``: zero at the segment's start):
decode time from ``tfdt`` plus the sample durations, plus the composition offset,
minus the track's edit-list shift. Where the edit list and the composition offsets
leave a doubt, both readings must lie inside the range.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import BinaryIO

from oversight.errors import InvalidInput

_MAX_BOXES = 100_000
MAX_INIT = 16 << 20  # a moov without samples is a few KB; refuse to read more
MAX_MOOF = 16 << 20  # a fragment's sample table; a GOP's is a few KB
MAX_SAMPLES = 1 << 20  # per trun: a 10 s GOP at 60 fps has 600
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex"})
_NON_SYNC = 0x00010000  # sample_is_non_sync_sample (ISO/IEC 14496-12, 8.8.3.1)


@dataclass(frozen=True)
class Parts:
    """Byte ranges [start, end) of one segment file."""

    init: tuple[int, int]
    media: tuple[int, int]


def boxes(f: BinaryIO, size: int) -> Iterator[tuple[bytes, int, int]]:
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
    for kind, offset, _ in boxes(f, size):
        if not kinds and kind != b"ftyp":
            raise InvalidInput("not an MP4 segment: it does not start with ftyp")
        if kind == b"moof" and first_moof is None:
            if b"moov" not in kinds:
                raise InvalidInput("not a fragmented MP4: moof before moov")
            if offset > MAX_INIT:
                raise InvalidInput("the initialisation section is implausibly large")
            first_moof = offset
        kinds.append(kind)
    if first_moof is None:
        raise InvalidInput("not a fragmented MP4: no moof box")
    return Parts((0, first_moof), (first_moof, size))


def children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
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


# ---- the tracks (moov) ----------------------------------------------------------------


@dataclass
class Track:
    """What a fragment's samples need from the init section, per track id."""

    timescale: int = 0
    video: bool = False
    shift: int = 0  # edit list: media time presented at time zero
    duration: int = 0  # trex defaults
    flags: int = 0


def _u32(data: bytes, at: int) -> int:
    value: int = struct.unpack(">I", data[at : at + 4])[0]
    return value


def _full(data: bytes, lo: int) -> tuple[int, int]:
    """(version, flags) of a full box whose payload starts at ``lo``."""
    word = _u32(data, lo)
    return word >> 24, word & 0xFFFFFF


def _need(lo: int, hi: int, n: int, what: str) -> None:
    if hi - lo < n:
        raise InvalidInput(f"truncated {what} box")


def _trak(data: bytes, lo: int, hi: int) -> tuple[int, Track]:
    track_id = 0
    track = Track()
    stack = [(lo, hi)]
    while stack:
        a, b = stack.pop()
        for kind, clo, chi in children(data, a, b):
            if kind == b"tkhd":
                version, _ = _full(data, clo)
                at = clo + (20 if version == 1 else 12)
                _need(clo, chi, at - clo + 4, "tkhd")
                track_id = _u32(data, at)
            elif kind == b"mdhd":
                version, _ = _full(data, clo)
                at = clo + (20 if version == 1 else 12)
                _need(clo, chi, at - clo + 4, "mdhd")
                track.timescale = _u32(data, at)
            elif kind == b"hdlr":
                _need(clo, chi, 12, "hdlr")
                track.video = data[clo + 8 : clo + 12] == b"vide"
            elif kind == b"elst":
                track.shift = _first_edit(data, clo, chi)
            elif kind in _CONTAINERS:
                stack.append((clo, chi))
    if not track_id or track.timescale <= 0:
        raise InvalidInput("a track without id or timescale")
    return track_id, track


def _first_edit(data: bytes, lo: int, hi: int) -> int:
    """The media time of the first non-empty edit (0 without one)."""
    version, _ = _full(data, lo)
    _need(lo, hi, 8, "elst")
    count = _u32(data, lo + 4)
    width = 20 if version == 1 else 12
    for i in range(min(count, (hi - lo - 8) // width)):
        at = lo + 8 + i * width
        if version == 1:
            media_time: int = struct.unpack(">q", data[at + 8 : at + 16])[0]
        else:
            media_time = struct.unpack(">i", data[at + 4 : at + 8])[0]
        if media_time >= 0:
            return media_time
    return 0


def tracks(init: bytes) -> dict[int, Track]:
    """The tracks of an init section (``ftyp`` + ``moov``), by track id."""
    found: dict[int, Track] = {}
    defaults: dict[int, tuple[int, int]] = {}
    for kind, lo, hi in children(init, 0, len(init)):
        if kind != b"moov":
            continue
        for sub, slo, shi in children(init, lo, hi):
            if sub == b"trak":
                track_id, track = _trak(init, slo, shi)
                found[track_id] = track
            elif sub == b"mvex":
                for ext, elo, ehi in children(init, slo, shi):
                    if ext == b"trex":
                        _need(elo, ehi, 24, "trex")
                        defaults[_u32(init, elo + 4)] = (_u32(init, elo + 12), _u32(init, elo + 20))
    if not found:
        raise InvalidInput("not an MP4 segment: no track in its moov")
    for track_id, (duration, flags) in defaults.items():
        if track_id in found:
            found[track_id].duration, found[track_id].flags = duration, flags
    return found


# ---- the fragments (moof) --------------------------------------------------------------


@dataclass
class Fragment:
    """One moof and the mdat(s) after it: bytes [start, end) and when its samples play."""

    start: int
    end: int
    # Per track: (earliest presentation, latest presentation end), in seconds.
    times: dict[int, tuple[Fraction, Fraction]] = field(default_factory=dict)
    keyframe: bool = True  # the first video sample is a sync sample


def _traf(
    data: bytes, lo: int, hi: int, known: dict[int, Track]
) -> tuple[int, Fraction, Fraction, bool]:
    track_id = 0
    base: int | None = None
    duration = flags = 0
    runs: list[tuple[int, int, int]] = []
    for kind, clo, chi in children(data, lo, hi):
        if kind == b"tfhd":
            _, tf = _full(data, clo)
            _need(clo, chi, 8, "tfhd")
            track_id = _u32(data, clo + 4)
            track = known.get(track_id)
            if track is None:
                raise InvalidInput(f"a fragment of track {track_id}, which the moov lacks")
            duration, flags = track.duration, track.flags
            at = clo + 8 + (8 if tf & 0x01 else 0) + (4 if tf & 0x02 else 0)
            if tf & 0x08:
                duration, at = _u32(data, at), at + 4
            if tf & 0x10:
                at += 4
            if tf & 0x20:
                flags = _u32(data, at)
        elif kind == b"tfdt":
            version, _ = _full(data, clo)
            _need(clo, chi, 12 if version == 1 else 8, "tfdt")
            base = (
                struct.unpack(">Q", data[clo + 4 : clo + 12])[0]
                if version == 1
                else _u32(data, clo + 4)
            )
        elif kind == b"trun":
            runs.append((clo, chi, 0))
    if not track_id:
        raise InvalidInput("a track fragment without tfhd")
    if base is None:
        raise InvalidInput("a track fragment without tfdt: its time is unknown")
    track = known[track_id]
    decode = base
    earliest: Fraction | None = None
    latest: Fraction | None = None
    keyframe = True
    first = True
    for clo, chi, _ in runs:
        version, tr = _full(data, clo)
        count = _u32(data, clo + 4)
        at = clo + 8 + (4 if tr & 0x01 else 0)
        first_flags = None
        if tr & 0x04:
            first_flags, at = _u32(data, at), at + 4
        width = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if tr & bit)
        if count > MAX_SAMPLES or (width and count > (chi - at) // width):
            raise InvalidInput("a trun box with more samples than it holds")
        for _ in range(count):
            length, sample_flags, offset = duration, flags, 0
            if tr & 0x100:
                length, at = _u32(data, at), at + 4
            if tr & 0x200:
                at += 4
            if tr & 0x400:
                sample_flags, at = _u32(data, at), at + 4
            if tr & 0x800:
                raw = data[at : at + 4]
                offset = struct.unpack(">i" if version == 1 else ">I", raw)[0]
                at += 4
            if first:
                chosen = first_flags if first_flags is not None else sample_flags
                keyframe = not (chosen & _NON_SYNC)
                first = False
            # Both readings: with and without the edit-list shift (see the module doc).
            for shift in {0, track.shift}:
                shown = Fraction(decode + offset - shift, track.timescale)
                ends = shown + Fraction(length, track.timescale)
                earliest = shown if earliest is None else min(earliest, shown)
                latest = ends if latest is None else max(latest, ends)
            decode += length
    if earliest is None or latest is None:
        raise InvalidInput(f"a track fragment of track {track_id} without samples")
    return track_id, earliest, latest, keyframe or not track.video


def _moof(data: bytes, start: int, known: dict[int, Track]) -> Fragment:
    fragment = Fragment(start, start + len(data))
    for kind, lo, hi in children(data, 0, len(data)):
        if kind != b"moof":
            continue
        for sub, slo, shi in children(data, lo, hi):
            if sub == b"traf":
                track_id, earliest, latest, keyframe = _traf(data, slo, shi, known)
                fragment.times[track_id] = (earliest, latest)
                if known[track_id].video and not keyframe:
                    fragment.keyframe = False
    if not fragment.times:
        raise InvalidInput(f"a moof at byte {start} without track fragments")
    return fragment


def fragments(f: BinaryIO, size: int, known: dict[int, Track]) -> list[Fragment]:
    """The fragments of a segment file: each moof with the mdat boxes that follow it."""
    out: list[Fragment] = []
    current: Fragment | None = None
    for kind, offset, box_size in boxes(f, size):
        if kind == b"moof":
            if box_size > MAX_MOOF:
                raise InvalidInput(f"the moof at byte {offset} is implausibly large")
            f.seek(offset)
            current = _moof(f.read(box_size), offset, known)
            out.append(current)
        elif kind == b"mdat" and current is not None:
            current.end = offset + box_size
        else:
            current = None  # mfra, free, ...: not part of any fragment
    return out


# ---- the cut ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cut:
    """What may be served of one segment for a range: its init section, and the byte
    range of whole fragments inside the range (None: no whole fragment fits) with the
    file times they cover."""

    init: tuple[int, int]
    media: tuple[int, int] | None
    start: Fraction = Fraction(0)
    end: Fraction = Fraction(0)


def window(found: list[Fragment], lo: Fraction, hi: Fraction) -> list[Fragment]:
    """The longest run of consecutive fragments inside [lo, hi]: from the first that
    starts with a keyframe at or after ``lo`` to the last whose samples all end by ``hi``."""
    run: list[Fragment] = []
    for fragment in found:
        first = min(t[0] for t in fragment.times.values())
        last = max(t[1] for t in fragment.times.values())
        if not run and (first < lo or not fragment.keyframe):
            continue
        if last > hi:
            break
        run.append(fragment)
    return run


def cut(f: BinaryIO, size: int, lo: Fraction, hi: Fraction) -> Cut:
    """The parts of the segment file ``f`` (``size`` bytes) that lie inside the file
    times [lo, hi] (seconds from the segment's start; either may lie outside it)."""
    parts = split(f, size)
    f.seek(0)
    try:
        known = tracks(f.read(parts.init[1]))
        run = window(fragments(f, size, known), lo, hi)
    except (struct.error, ZeroDivisionError):
        # A field cut short inside a box: a damaged segment, refused, never half read.
        raise InvalidInput("a damaged fragmented MP4: a box ends inside its fields") from None
    if not run:
        return Cut(parts.init, None)
    return Cut(
        parts.init,
        (run[0].start, run[-1].end),
        min(t[0] for t in run[0].times.values()),
        max(t[1] for t in run[-1].times.values()),
    )
