"""The sealer: a finished spool file becomes sealed footage, or is quarantined.

For each file (steps, each safe to repeat after a crash):
1. probe it (duration from the video packets, codecs); unreadable or empty -> 2q;
2. seal it (``services.sealing.seal_file``: hash, ledger leaf, index row, store put, one
   transaction; idempotent by (camera, sha256));
3. remove the spool file.
2q. quarantine: record the file, its hash and the reason (idempotent per file name),
    then move it to ``<data_dir>/quarantine/<camera>/``. Never dropped.

Crash after 1 or during 2: the file is still in the spool and a rescan seals it. Crash
after 2 before 3: the rescan's seal finds the same hash and returns the sealed segment,
then removes the file. Crash during 2q: the record exists and the rescan moves the file.

Times: ``end`` is the wall clock when ffmpeg listed the segment (for a leftover found
by a rescan, its modification time: when its last bytes were written); ``start`` is
``end`` minus the duration of the video in the file, but never before its packets can
have arrived (the listing of the segment before it, or ffmpeg's start): the camera's
timestamps give a segment's length, the recorder's clock when it happened.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oversight.bootstrap import System
from oversight.errors import InvalidInput
from oversight.media.ffmpeg import SEGMENT_EXTENSIONS
from oversight.recorder import mp4check, probe
from oversight.services import recording
from oversight.services.pool import Fence
from oversight.services.sealing import SealedSegment, file_sha256, seal_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealOutcome:
    filename: str
    end: datetime
    start: datetime | None = None
    sealed: SealedSegment | None = None
    probe: probe.SegmentProbe | None = None
    quarantined: recording.QuarantineRec | None = None


def spool_dir(system: System, camera: str, node: str | None = None) -> Path:
    """Where ffmpeg writes ``camera``'s segments; each node of a pool has its own, so
    one node never seals what another recorded as its own."""
    if node is not None:
        return system.settings.data_dir / "spool-nodes" / node / camera
    return system.settings.data_dir / "spool" / camera


def quarantine_dir(system: System, camera: str) -> Path:
    return system.settings.data_dir / "quarantine" / camera


def seal_spool_file(
    system: System,
    *,
    camera: str,
    path: Path,
    end: datetime,
    clock_offset_ms: int = 0,
    ffprobe: str = "ffprobe",
    listed_duration: float | None = None,
    hashed: tuple[str, int] | None = None,
    arrived: datetime | None = None,
    fence: Fence | None = None,
) -> SealOutcome:
    """Seal one finished spool file of ``camera`` (steps 1-3), or quarantine it.

    ``listed_duration``: the duration ffmpeg's segment list gave for this file. With it,
    a structurally whole fragmented MP4 is sealed without starting ffprobe. ``hashed``:
    the file's (SHA-256, size) if the caller hashed it already (after ffmpeg closed it).
    ``arrived``: when its first packets can have arrived at the earliest (the listing of
    the segment before it, or ffmpeg's start); its start is never claimed before that."""
    if path.stat().st_size == 0:
        return quarantine(system, camera=camera, path=path, end=end, reason="empty file")
    found: probe.SegmentProbe | None = None
    if (
        listed_duration is not None
        and listed_duration > 0
        and (path.suffix == ".mp4" and mp4check.looks_complete(path))
    ):
        duration = listed_duration
    else:
        try:
            found = probe.probe_segment(path, ffprobe=ffprobe)
        except InvalidInput as exc:
            return quarantine(system, camera=camera, path=path, end=end, reason=exc.message)
        duration = found.duration
    start = end - timedelta(seconds=duration)
    if arrived is not None and arrived < end:
        start = max(start, arrived)
    sealed = seal_file(
        system,
        camera=camera,
        path=path,
        start=start,
        end=end,
        clock_offset_ms=clock_offset_ms,
        hashed=hashed,
        fence=fence,
    )
    path.unlink()
    if sealed.already_sealed:
        log.info("camera %s: %s was already sealed as seq %d", camera, path.name, sealed.seq)
    return SealOutcome(path.name, end, start, sealed, found)


def quarantine(
    system: System, *, camera: str, path: Path, end: datetime, reason: str
) -> SealOutcome:
    """Keep an unsealable file out of the spool, with its hash and reason on record."""
    target = quarantine_dir(system, camera) / path.name
    digest, size = file_sha256(path)
    try:
        where = target.relative_to(system.settings.data_dir).as_posix()
    except ValueError:
        where = str(target)
    record = recording.record_quarantine(
        system,
        camera=camera,
        filename=path.name,
        path=where,
        reason=reason,
        size=size,
        sha256=digest,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target)
    log.error("camera %s: segment %s quarantined: %s", camera, path.name, reason)
    return SealOutcome(path.name, end, quarantined=record)


def leftovers(directory: Path) -> list[Path]:
    """Segment files in a spool directory, in recording order (run id, then index)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in SEGMENT_EXTENSIONS)


def modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def seal_leftovers(
    system: System,
    *,
    camera: str,
    busy: Callable[[Path], bool],
    seal: Callable[[Path, datetime], object] | None = None,
    node: str | None = None,
) -> list[Path]:
    """Seal (or quarantine) every file left in the camera's spool that no process holds
    open: the segments a crash left unsealed, and the partial last one. ``seal``
    defaults to :func:`seal_spool_file`; the supervisor passes its own to track gaps.
    Returns the files it handed over."""
    done: list[Path] = []
    for path in leftovers(spool_dir(system, camera, node)):
        if busy(path):
            log.warning(
                "camera %s: %s is still open in some process; left for later", camera, path.name
            )
            continue
        end = modified_at(path)
        if seal is None:
            seal_spool_file(system, camera=camera, path=path, end=end)
        else:
            seal(path, end)
        done.append(path)
    return done
