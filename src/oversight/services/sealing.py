"""Sealing: a finished segment file becomes recorded footage in one transaction.

Steps (the recorder's sealer and ``oversight segments import`` both come here):
1. hash the file (SHA-256, streamed) and take its size;
2. store the bytes (write-once, fsynced) under a key named by camera, start and hash;
3. in one transaction, under the ledger lock: find the camera's next sequence number
   and its previous segment's hash, append the ``segment_sealed`` leaf, insert the
   index row and commit;
4. after commit, the caller may remove the spool file.

The bytes are stored before the ledger lock is taken (issue 21, item 9): an upload to
object storage takes tens to hundreds of milliseconds, and every node of a pool appends
under that one lock, so holding it across the upload would cap a pool at one upload at a
time. The lock covers only the chain head, the leaf and the index row.

Idempotent: if a crash hits after step 3 committed, sealing the same file again finds
the camera's segment with that hash and returns it; if it hits before the commit,
nothing is indexed, and the stored copy with the same key and bytes is reused (until
then ``oversight verify`` lists it as unexpected: stored, never sealed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import retention
from oversight.errors import InvalidInput, NotFound
from oversight.ledger import leaves
from oversight.services import pool, windows
from oversight.services.retention import active_holds
from oversight.storage.base import segment_key


@dataclass(frozen=True)
class SealedSegment:
    id: int
    camera: str
    seq: int
    start: datetime
    end: datetime
    size: int
    sha256: str
    storage_key: str
    leaf_index: int
    already_sealed: bool = False


def file_sha256(path: Path) -> tuple[str, int]:
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256")  # one reused buffer, no chunk copies
        return digest.hexdigest(), f.tell()


def _sealed(row: m.Segment, already: bool) -> SealedSegment:
    return SealedSegment(
        row.id,
        row.camera_id,
        row.seq,
        row.start_at,
        row.end_at,
        row.size_bytes,
        row.sha256,
        row.storage_key,
        row.leaf_index,
        already,
    )


def seal_file(
    system: System,
    *,
    camera: str,
    path: Path,
    start: datetime,
    end: datetime,
    clock_offset_ms: int = 0,
    hashed: tuple[str, int] | None = None,
    fence: pool.Fence | None = None,
) -> SealedSegment:
    """Seal one finished segment file of ``camera`` covering [start, end).

    ``hashed``: the file's (SHA-256 hex, size), when the caller hashed the finished file
    already (the recorder hashes on other threads); else it is hashed here.
    ``fence``: in a recorder pool, the node and lease epoch it records under. A node
    that has lost the lease still seals (footage is never discarded) but as ``late``:
    chained like any other, named with its node and epoch, never the owner's copy.
    A redundant camera's two recordings (``fence.copy`` 0 and 1) share its one chain."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("segment times must be timezone-aware")
    if end <= start:
        raise InvalidInput(f"segment end {end.isoformat()} is not after its start")
    if not path.is_file():
        raise NotFound(f"segment file {path} does not exist")
    digest, size = hashed if hashed is not None else file_sha256(path)
    if size == 0:
        raise InvalidInput(f"segment file {path} is empty")
    ext = path.suffix.lstrip(".") or "bin"
    key = segment_key(camera, start, digest, ext)
    with system.reads() as session:
        if session.scalar(select(m.Camera.id).where(m.Camera.id == camera)) is None:
            raise NotFound(f"camera {camera!r} does not exist")
        existing = _existing(session, camera, digest)
        if existing is not None:
            return existing
        # A WORM store locks the bytes until their earliest lawful deletion.
        retain_until = earliest_deletion(session, system, camera, end)
    system.store.put(key, path, retain_until=retain_until)
    with system.sessions.begin() as session:
        # Take the ledger lock before reading the chain head, so two sealers of one
        # camera cannot both claim the same sequence number.
        system.ledger.lock(session)
        existing = _existing(session, camera, digest)  # sealed meanwhile by another
        if existing is not None:
            return existing
        last = session.execute(
            select(m.Segment.seq, m.Segment.sha256)
            .where(m.Segment.camera_id == camera)
            .order_by(m.Segment.seq.desc())
            .limit(1)
        ).first()
        seq = 1 if last is None else last.seq + 1
        prev = "" if last is None else last.sha256
        late = fence is not None and not pool.lease_held(session, camera, fence)
        now = system.clock.now()
        [index] = system.ledger.append(
            session,
            [
                leaves.segment_sealed(
                    at=now,
                    camera=camera,
                    seq=seq,
                    prev_sha256=prev,
                    start=start,
                    end=end,
                    clock_offset_ms=clock_offset_ms,
                    size=size,
                    sha256=digest,
                    storage_key=key,
                    node=None if fence is None else fence.node,
                    epoch=None if fence is None else fence.epoch,
                    late=late,
                    copy=0 if fence is None else fence.copy,
                )
            ],
        )
        row = m.Segment(
            camera_id=camera,
            seq=seq,
            start_at=start,
            end_at=end,
            size_bytes=size,
            sha256=digest,
            prev_sha256=prev or None,
            storage_key=key,
            leaf_index=index,
            node=None if fence is None else fence.node,
            epoch=None if fence is None else fence.epoch,
            late=late,
            copy=0 if fence is None else fence.copy,
        )
        session.add(row)
        session.flush()
        windows.record_length(session, camera, start, end)
        if active_holds(session, camera, start, end):  # a hold reaching into the future
            system.store.set_legal_hold(key, True)
        return _sealed(row, already=False)


def _existing(session: Session, camera: str, digest: str) -> SealedSegment | None:
    """The camera's segment with these bytes, if sealed already (a reseal after a crash)."""
    found = session.scalar(
        select(m.Segment.id).where(m.Segment.camera_id == camera, m.Segment.sha256 == digest)
    )
    if found is None:
        return None
    row = session.get(m.Segment, found)
    assert row is not None
    return _sealed(row, already=True)


def earliest_deletion(session: Session, system: System, camera: str, end: datetime) -> datetime:
    """When standard footage of ``camera`` ending at ``end`` may go at the earliest:
    the pack floor, or the camera's or deployment's longer keep-for."""
    floor = retention.floor_for(system.packs, retention.STANDARD, end).days
    keep = {
        r.scope: r.keep_days
        for r in session.scalars(
            select(m.RetentionPolicy).where(m.RetentionPolicy.scope.in_([camera, "*"]))
        )
    }
    days = max(floor, keep.get(camera, keep.get("*", 0)))
    return end + timedelta(days=days)


def segment_count(system: System, camera: str | None = None) -> int:
    with system.reads() as session:
        query = select(func.count()).select_from(m.Segment)
        if camera:
            query = query.where(m.Segment.camera_id == camera)
        return int(session.scalar(query) or 0)
