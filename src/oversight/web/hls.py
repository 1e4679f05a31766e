"""HLS from sealed segments, pure: where a fragmented MP4 splits, and the playlist.

A sealed segment (``movflags=frag_keyframe+empty_moov+default_base_moof``) is
``ftyp`` + ``moov`` (no samples) followed by ``moof`` + ``mdat`` pairs. HLS serves
the part before the first ``moof`` as the segment's initialisation section
(``EXT-X-MAP``) and, as its media, the whole fragments inside the grant that the
enforcement point cut (``media/trim.py``): both are byte ranges of the sealed file, so
no byte is re-encoded; a partly covered segment is listed with the times of its cut.
The recorder cuts with ``-reset_timestamps 1``: every segment starts at time zero and
has its own init section, hence ``EXT-X-DISCONTINUITY``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from oversight.errors import InvalidInput
from oversight.media import trim

# Sample entries Chromium's MSE decodes here: H.264 only (H.265 needs hardware).
PLAYABLE_VIDEO = frozenset({"avc1", "avc3"})
_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl"})
# The box walk and the split are the enforcement point's (media/trim.py), shared here.
Parts = trim.Parts
split = trim.split
_children = trim.children


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
