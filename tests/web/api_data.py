"""Data for the API tests: a camera with a few sealed segments (small stand-in files:
the index and the ledger are what these tests read, never the bytes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from oversight import bootstrap
from oversight.services.sealing import SealedSegment, seal_file
from tests.recorder.helpers import add_camera

SEGMENT = timedelta(seconds=60)


def recent_start() -> datetime:
    """Two hours ago on a whole minute: footage well within any retention period."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now - timedelta(hours=2)


def sealed_camera(
    system: bootstrap.System,
    tmp: Path,
    *,
    camera: str = "cam1",
    count: int = 3,
    start: datetime | None = None,
) -> list[SealedSegment]:
    """``camera`` registered (site s1, owner acme) with ``count`` consecutive 60 s
    segments from ``start`` sealed into the ledger."""
    add_camera(system, camera, f"rtsp://127.0.0.1:8554/{camera}")
    t0 = start or recent_start()
    out = []
    for i in range(count):
        path = tmp / f"{camera}-{i}.mp4"
        path.write_bytes(f"segment {camera} {i}".encode() * 10)
        begin = t0 + i * SEGMENT
        out.append(seal_file(system, camera=camera, path=path, start=begin, end=begin + SEGMENT))
    return out
