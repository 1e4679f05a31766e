"""``oversight capacity``: measure bitrates, project retention's needs, compare with space."""

from __future__ import annotations

import shutil
from datetime import timedelta

from sqlalchemy import func, select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import capacity, retention
from oversight.domain.retention import KeepFor
from oversight.services import windows
from oversight.services.retention import DEPLOYMENT
from oversight.storage.local import LocalStore

# Bitrate from the last day of footage: long enough to smooth day/night, short enough
# to follow a camera whose settings changed.
WINDOW = timedelta(days=1)


def measure(system: System) -> capacity.Capacity:
    now = system.clock.now()
    since = now - WINDOW
    with system.reads() as session:
        rows = session.execute(
            select(
                m.Segment.camera_id, m.Segment.start_at, m.Segment.end_at, m.Segment.size_bytes
            ).where(m.Segment.deleted_at.is_(None), *windows.overlapping(session, since))
        ).all()
        used = int(
            session.scalar(
                select(func.coalesce(func.sum(m.Segment.size_bytes), 0)).where(
                    m.Segment.deleted_at.is_(None)
                )
            )
            or 0
        )
        policies = {r.scope: r.keep_days for r in session.scalars(select(m.RetentionPolicy))}
        cameras = [
            c for c in session.scalars(select(m.Camera.id).where(m.Camera.removed.is_(None)))
        ]
    recorded: dict[str, tuple[float, int]] = {c: (0.0, 0) for c in cameras}
    for camera, start, end, size in rows:
        seconds, total = recorded.get(camera, (0.0, 0))
        recorded[camera] = (seconds + (end - start).total_seconds(), total + size)
    floor = retention.floor_for(system.packs, retention.STANDARD, now).days
    keep = KeepFor(policies.pop(DEPLOYMENT, None), policies)
    keep_days = {c: max(floor, keep.days(c) or 0) for c in recorded}
    return capacity.measure(recorded, keep_days, used, _free_bytes(system), floor)


def _free_bytes(system: System) -> int | None:
    """Free space of a local store's file system; None for object storage (no fixed size)."""
    if not isinstance(system.store, LocalStore):
        return None
    path = system.store.root
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free
