"""The player's clock: media time of a grant's playlist to wall-clock time, and gaps. Pure.

The playlist (``web/hls.py``) lists the released segments one after the other, each
with its ``EXTINF`` duration and a discontinuity between them, so the player's media
time runs without holes: a gap in the footage is where one piece ends and the next
begins on the wall clock but not in media time. A :class:`Piece` is one playlist entry
placed on both clocks: it starts at media time ``media`` (the sum of the durations
before it, as the playlist writes them) and at wall-clock ``start``. The page maps
media time to wall-clock time and back with these pieces, and marks on the scrub bar
the :func:`gaps`: the parts of the range shown that no piece covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oversight.errors import InvalidInput

MIN_DURATION = 0.001  # the playlist's floor for one entry (web/hls.py)


@dataclass(frozen=True)
class Piece:
    media: float  # seconds from the start of the playlist
    duration: float  # seconds, as the playlist's EXTINF says
    start: datetime  # the wall-clock time of its first frame
    end: datetime


def duration(start: datetime, end: datetime) -> float:
    """An entry's EXTINF duration, rounded as the playlist writes it."""
    return round(max((end - start).total_seconds(), MIN_DURATION), 3)


def pieces(spans: Sequence[tuple[datetime, datetime]]) -> list[Piece]:
    """The playlist's entries ``(start, end)``, in playlist order, on both clocks. Real
    segments may overlap by a few milliseconds at a seam (the recorder's cut, a pool
    failover): each piece keeps its own wall-clock start, media time runs on."""
    out: list[Piece] = []
    media = 0.0
    for start, end in spans:
        length = duration(start, end)
        out.append(Piece(round(media, 3), length, start, end))
        media += length
    return out


def gaps(found: Sequence[Piece], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) that no piece covers, in order."""
    if end <= start:
        raise InvalidInput("the range shown must end after it starts")
    out = []
    at = start
    for piece in found:
        if piece.end <= at:
            continue
        if piece.start >= end:
            break
        if piece.start > at:
            out.append((at, piece.start))
        at = max(at, piece.end)
    if at < end:
        out.append((at, end))
    return out


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def as_data(found: Sequence[Piece], start: datetime, end: datetime) -> dict[str, Any]:
    """The page's data of one camera: its pieces and its gaps in [start, end), times in
    milliseconds since the epoch (what the page's script computes with)."""
    return {
        "pieces": [
            {
                "media": p.media,
                "duration": p.duration,
                "start": millis(p.start),
                "end": millis(p.end),
            }
            for p in found
        ],
        "gaps": [{"start": millis(a), "end": millis(b)} for a, b in gaps(found, start, end)],
    }
