"""A cheap structural check of a fragmented MP4 segment, in-process.

Starting ffprobe for every segment costs more CPU than recording it (about 0.1 CPU-s
per process start here). For a segment ffmpeg itself listed as finished, the duration
comes from its segment list; what remains is to catch a damaged file: the top-level
boxes must tile the file exactly (a truncated or overwritten file does not), start with
``ftyp``, and hold ``moov`` and at least one ``moof`` + ``mdat`` pair. Anything else
goes to ffprobe, and a failure there quarantines the file.
"""

from __future__ import annotations

import struct
from pathlib import Path

_MAX_BOXES = 100_000


def looks_complete(path: Path) -> bool:
    """True if ``path`` is a structurally whole fragmented MP4."""
    try:
        size = path.stat().st_size
        seen: list[bytes] = []
        with path.open("rb") as f:
            offset = 0
            while offset < size:
                if len(seen) > _MAX_BOXES:
                    return False
                f.seek(offset)
                header = f.read(16)
                if len(header) < 8:
                    return False
                box_size, kind = struct.unpack(">I4s", header[:8])
                if box_size == 1:  # 64-bit size follows
                    if len(header) < 16:
                        return False
                    box_size = struct.unpack(">Q", header[8:16])[0]
                elif box_size == 0:  # to the end of the file
                    box_size = size - offset
                if box_size < 8 or offset + box_size > size:
                    return False
                seen.append(kind)
                offset += box_size
    except OSError:
        return False
    return (
        bool(seen)
        and seen[0] == b"ftyp"
        and b"moov" in seen
        and b"moof" in seen
        and b"mdat" in seen
    )
