"""Camera health as operators see it: the monitor's live measurements, the recorder's
status, the last sealed segment, today's gaps and the open alarms, per camera."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain.people import Person
from oversight.services import alarms, recording
from oversight.services.recording import utc

# A snapshot older than this means the monitor is not running (or not for this camera).
STALE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class Snapshot:
    camera: str
    state: str  # online | offline
    since: datetime
    fps: float
    kbps: float
    last_frame_at: datetime | None
    tamper: tuple[str, ...]
    reference: bool
    updated_at: datetime


def save_snapshot(system: System, snap: Snapshot) -> None:
    with system.sessions.begin() as s:
        row = s.get(m.CameraHealth, snap.camera)
        if row is None:
            row = m.CameraHealth(camera_id=snap.camera)
            s.add(row)
        row.state, row.since = snap.state, snap.since
        row.fps, row.kbps = round(snap.fps, 3), round(snap.kbps, 3)
        row.last_frame_at, row.tamper = snap.last_frame_at, list(snap.tamper)
        row.reference, row.updated_at = snap.reference, snap.updated_at


def snapshots(system: System) -> dict[str, Snapshot]:
    with system.reads() as s:
        return {
            r.camera_id: Snapshot(
                r.camera_id,
                r.state,
                utc(r.since),
                r.fps,
                r.kbps,
                utc(r.last_frame_at) if r.last_frame_at else None,
                tuple(r.tamper),
                r.reference,
                utc(r.updated_at),
            )
            for r in s.scalars(select(m.CameraHealth))
        }


@dataclass(frozen=True)
class CameraHealth:
    camera: str
    live: str  # online | offline | unknown (no monitor running)
    live_since: datetime | None
    fps: float | None
    kbps: float | None
    recorder: str
    recorder_since: datetime | None
    last_segment_at: datetime | None
    gaps_today: int
    open_alarms: tuple[str, ...]
    tamper: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        def at(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "camera": self.camera,
            "live": self.live,
            "live_since": at(self.live_since),
            "fps": self.fps,
            "kbps": self.kbps,
            "recorder": self.recorder,
            "recorder_since": at(self.recorder_since),
            "last_segment_at": at(self.last_segment_at),
            "gaps_today": self.gaps_today,
            "open_alarms": list(self.open_alarms),
            "tamper": list(self.tamper),
        }


def report(system: System, actor: Person) -> list[CameraHealth]:
    """Live health of the cameras ``actor`` may see."""
    now = system.clock.now()
    midnight = system.packs.start_of_day(system.packs.local_date(now))
    live = snapshots(system)
    open_by_camera: dict[str, list[str]] = {}
    for alarm in alarms.list_alarms(system, actor, open_only=True):
        open_by_camera.setdefault(alarm.camera, []).append(alarm.kind)
    with system.reads() as s:
        gaps = dict(
            s.execute(
                select(m.Gap.camera_id, func.count())
                .where(m.Gap.end_at > midnight)
                .group_by(m.Gap.camera_id)
            ).all()
        )
    out = []
    for status in recording.list_status(system, actor):
        snap = live.get(status.camera)
        fresh = snap is not None and now - snap.updated_at <= STALE_AFTER
        out.append(
            CameraHealth(
                camera=status.camera,
                live=snap.state if snap is not None and fresh else "unknown",
                live_since=snap.since if snap is not None and fresh else None,
                fps=snap.fps if snap is not None and fresh else None,
                kbps=snap.kbps if snap is not None and fresh else None,
                recorder=status.state,
                recorder_since=status.since,
                last_segment_at=status.last_segment_at,
                gaps_today=int(gaps.get(status.camera, 0)),
                open_alarms=tuple(sorted(open_by_camera.get(status.camera, []))),
                tamper=snap.tamper if snap is not None and fresh else (),
            )
        )
    return out
