"""Recorder use cases: the cameras to record, gaps, camera status, quarantine, events,
and the segment index as the CLI and API list it. Each public function is one
transaction. Times are stored and returned in UTC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy import update as sql_update

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain.people import Person
from oversight.errors import InvalidInput, NotFound
from oversight.ledger import leaves
from oversight.services import authz, credentials, windows

STATES = ("starting", "recording", "reconnecting", "offline", "disk_full", "stopped")
# A running recorder touches its cameras' status rows every HEARTBEAT_S seconds; a status
# it has not touched for STALE_AFTER_S is reported as "recorder_down", never as its last
# word: a recorder killed with -9 cannot say "stopped".
HEARTBEAT_S = 5.0
STALE_AFTER_S = 30.0
RECORDER_DOWN = "recorder_down"


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything Oversight stores is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _opt_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"{what} must be timezone-aware")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class CameraSource:
    """A camera to record or watch. ``stream_url`` is the stored form (credentials are
    ``***``); ``credentials`` the sealed rest. Only ``credentials.open_url`` joins them,
    where the stream is opened."""

    id: str
    stream_url: str
    credentials: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class GapRec:
    id: int
    camera: str
    start: datetime
    end: datetime
    reason: str
    leaf_index: int
    copy: int = 0  # which recording of a redundant camera has the hole


@dataclass(frozen=True)
class StatusRec:
    camera: str
    state: str
    since: datetime | None
    last_segment_at: datetime | None
    last_error: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class SegmentRec:
    id: int
    camera: str
    seq: int
    start: datetime
    end: datetime
    size: int
    sha256: str
    storage_key: str
    leaf_index: int
    deleted_at: datetime | None
    copy: int = 0  # which recording of a redundant camera
    late: bool = False  # sealed by a node that had lost the camera's lease
    node: str | None = None  # the pool node that sealed it


@dataclass(frozen=True)
class QuarantineRec:
    id: int
    camera: str
    filename: str
    path: str
    reason: str
    size: int
    sha256: str
    created_at: datetime


@dataclass(frozen=True)
class EventRec:
    id: int
    camera: str | None
    at: datetime
    kind: str
    message: str


# ---- what to record ----


def recordable_cameras(system: System, only: tuple[str, ...] = ()) -> list[CameraSource]:
    """Registered, not removed cameras (optionally only the ids in ``only``)."""
    with system.reads() as s:
        query = select(m.Camera.id, m.Camera.stream_url, m.Camera.credentials).where(
            m.Camera.removed.is_(None)
        )
        if only:
            query = query.where(m.Camera.id.in_(only))
        return [CameraSource(*row) for row in s.execute(query.order_by(m.Camera.id))]


def coverage_end(system: System, camera: str, copy: int = 0) -> datetime | None:
    """End of the latest sealed segment of the camera's ``copy`` (0 unless it is
    recorded redundantly): where that recording of its footage stops."""
    with system.reads() as s:
        end = s.scalar(
            select(func.max(m.Segment.end_at)).where(
                m.Segment.camera_id == camera, m.Segment.copy == copy
            )
        )
        return _opt_utc(end)


# ---- gaps ----


def _gap(row: m.Gap) -> GapRec:
    return GapRec(
        row.id,
        row.camera_id,
        utc(row.start_at),
        utc(row.end_at),
        row.reason,
        row.leaf_index,
        row.copy,
    )


def record_gap(
    system: System, *, camera: str, start: datetime, end: datetime, reason: str, copy: int = 0
) -> GapRec:
    """Record that ``camera`` has no footage in [start, end): index row and ``gap`` leaf.
    ``copy``: for a redundant camera, which of its two recordings has the hole."""
    start, end = _aware(start, "gap start"), _aware(end, "gap end")
    if end <= start:
        raise InvalidInput(f"gap end {end.isoformat()} is not after its start")
    now = system.clock.now()
    with system.sessions.begin() as s:
        if s.get(m.Camera, camera) is None:
            raise NotFound(f"camera {camera!r} does not exist")
        # The reason often quotes ffmpeg, which may echo the stream URL.
        reason = credentials.scrub(s, system, reason.strip(), [camera]) or "unknown"
        [index] = system.ledger.append(
            s,
            [leaves.gap(at=now, camera=camera, start=start, end=end, reason=reason, copy=copy)],
        )
        row = m.Gap(
            camera_id=camera,
            start_at=start,
            end_at=end,
            reason=reason,
            leaf_index=index,
            created_at=now,
            copy=copy,
        )
        s.add(row)
        s.flush()
        return _gap(row)


def _visible(s: Any, actor: Person, camera: str | None) -> frozenset[str] | None:
    """The cameras ``actor`` may see recordings of (None: all); a named camera must be
    one of them (``recordings.read``)."""
    if camera is not None:
        authz.on_cameras(s, actor, "recordings.read", [camera])
    return authz.visible_cameras(s, actor, "recordings.read")


def list_gaps(system: System, actor: Person, camera: str | None = None) -> list[GapRec]:
    with system.reads() as s:
        seen = _visible(s, actor, camera)
        query = select(m.Gap).order_by(m.Gap.start_at, m.Gap.id)
        if camera is not None:
            query = query.where(m.Gap.camera_id == camera)
        if seen is not None:
            query = query.where(m.Gap.camera_id.in_(sorted(seen)))
        return [_gap(r) for r in s.scalars(query)]


# ---- camera status ----


@dataclass(frozen=True)
class StatusUpdate:
    camera: str
    state: str
    since: datetime
    last_segment_at: datetime | None = None
    last_error: str | None = None


def set_status(
    system: System,
    camera: str,
    *,
    state: str,
    since: datetime,
    last_segment_at: datetime | None = None,
    last_error: str | None = None,
) -> None:
    """Replace the camera's status row (the recorder holds the whole state in memory)."""
    set_statuses(system, [StatusUpdate(camera, state, since, last_segment_at, last_error)])


def set_statuses(system: System, updates: Sequence[StatusUpdate]) -> None:
    """Replace the status rows of several cameras in one transaction (the recorder
    stores a burst of sealed segments' progress at once). All or nothing."""
    for update in updates:
        if update.state not in STATES:
            raise InvalidInput(f"unknown camera state {update.state!r}")
    with system.sessions.begin() as s:
        now = system.clock.now()
        for u in updates:
            row = s.get(m.CameraStatus, u.camera)
            if row is None:
                row = m.CameraStatus(camera_id=u.camera)
                s.add(row)
            row.state = u.state
            row.since = _aware(u.since, "since")
            row.last_segment_at = (
                _aware(u.last_segment_at, "last segment") if u.last_segment_at else None
            )
            row.last_error = (
                credentials.scrub(s, system, u.last_error, [u.camera]) if u.last_error else None
            )
            row.updated_at = now


def heartbeat(system: System, cameras: Sequence[str]) -> None:
    """The recorder is alive and still supervising ``cameras`` (one UPDATE)."""
    if not cameras:
        return
    with system.sessions.begin() as s:
        s.execute(
            sql_update(m.CameraStatus)
            .where(m.CameraStatus.camera_id.in_(list(cameras)))
            .values(updated_at=system.clock.now())
        )


def get_status(system: System, camera: str) -> StatusRec | None:
    with system.reads() as s:
        row = s.get(m.CameraStatus, camera)
        return None if row is None else _status(camera, row, system.clock.now())


def _status(camera: str, row: m.CameraStatus | None, now: datetime) -> StatusRec:
    if row is None:
        return StatusRec(camera, "never recorded", None, None, None, None)
    updated = utc(row.updated_at)
    state, error = row.state, row.last_error
    silent = (now - updated).total_seconds()
    if state != "stopped" and silent > STALE_AFTER_S:
        state = RECORDER_DOWN
        error = f"no word from the recorder for {silent:.0f} s (it last said: {row.state})"
    return StatusRec(camera, state, utc(row.since), _opt_utc(row.last_segment_at), error, updated)


def list_status(system: System, actor: Person) -> list[StatusRec]:
    """Every camera not removed, and removed ones the recorder still has a status for
    (a scoped person: their cameras)."""
    with system.reads() as s:
        seen = _visible(s, actor, None)
        rows = s.execute(
            select(m.Camera.id, m.Camera.removed, m.CameraStatus)
            .outerjoin(m.CameraStatus, m.CameraStatus.camera_id == m.Camera.id)
            .order_by(m.Camera.id)
        ).all()
        now = system.clock.now()
        return [
            _status(cid, st, now)
            for cid, removed, st in rows
            if (removed is None or st is not None) and (seen is None or cid in seen)
        ]


def recording_now(system: System) -> frozenset[str]:
    """Cameras actually recording now: a fresh status row saying so (a stale one is the
    recorder down, see :func:`_status`). Compliance counts only these for coverage."""
    with system.reads() as s:
        rows = s.scalars(select(m.CameraStatus).where(m.CameraStatus.state == "recording")).all()
        now = system.clock.now()
        return frozenset(
            r.camera_id for r in rows if _status(r.camera_id, r, now).state == "recording"
        )


# ---- quarantine and events ----


def _quarantine(row: m.QuarantinedSegment) -> QuarantineRec:
    return QuarantineRec(
        row.id,
        row.camera_id,
        row.filename,
        row.path,
        row.reason,
        row.size_bytes,
        row.sha256,
        utc(row.created_at),
    )


def record_quarantine(
    system: System,
    *,
    camera: str,
    filename: str,
    path: str,
    reason: str,
    size: int,
    sha256: str,
) -> QuarantineRec:
    """Idempotent per (camera, filename): a second call returns the first record."""
    with system.sessions.begin() as s:
        existing = s.scalars(
            select(m.QuarantinedSegment).where(
                m.QuarantinedSegment.camera_id == camera,
                m.QuarantinedSegment.filename == filename,
            )
        ).first()
        if existing is not None:
            return _quarantine(existing)
        row = m.QuarantinedSegment(
            camera_id=camera,
            filename=filename,
            path=path,
            reason=credentials.scrub(s, system, reason, [camera]),
            size_bytes=size,
            sha256=sha256,
            created_at=system.clock.now(),
        )
        s.add(row)
        s.flush()
        return _quarantine(row)


def list_quarantined(system: System, camera: str | None = None) -> list[QuarantineRec]:
    with system.reads() as s:
        query = select(m.QuarantinedSegment).order_by(m.QuarantinedSegment.id)
        if camera is not None:
            query = query.where(m.QuarantinedSegment.camera_id == camera)
        return [_quarantine(r) for r in s.scalars(query)]


def record_clock(
    system: System,
    *,
    action: Literal["camera.jump", "host.jump", "host.sync"],
    subject: str,
    details: Mapping[str, str | int],
    message: str,
    camera: str | None = None,
) -> EventRec:
    """A fact about time (see ``leaves.clock``): a ``clock`` leaf, and a recorder event
    (kind ``clock``) for ``recordings events``, in one transaction."""
    now = system.clock.now()
    with system.sessions.begin() as s:
        if camera is not None and s.get(m.Camera, camera) is None:
            raise NotFound(f"camera {camera!r} does not exist")
        system.ledger.append(
            s, [leaves.clock(at=now, action=action, subject=subject, details=details)]
        )
        text = credentials.scrub(s, system, message, None if camera is None else [camera])
        row = m.RecorderEvent(camera_id=camera, at=now, kind="clock", message=text)
        s.add(row)
        s.flush()
        return EventRec(row.id, row.camera_id, utc(row.at), row.kind, row.message)


def record_event(system: System, *, camera: str | None, kind: str, message: str) -> EventRec:
    """A recorder fact that is not a gap: a transcoding warning, a clock jump, a disk alarm."""
    with system.sessions.begin() as s:
        row = m.RecorderEvent(
            camera_id=camera,
            at=system.clock.now(),
            kind=kind,
            message=credentials.scrub(s, system, message, None if camera is None else [camera]),
        )
        s.add(row)
        s.flush()
        return EventRec(row.id, row.camera_id, utc(row.at), row.kind, row.message)


def list_events(
    system: System, *, camera: str | None = None, kind: str | None = None
) -> list[EventRec]:
    with system.reads() as s:
        query = select(m.RecorderEvent).order_by(m.RecorderEvent.id)
        if camera is not None:
            query = query.where(m.RecorderEvent.camera_id == camera)
        if kind is not None:
            query = query.where(m.RecorderEvent.kind == kind)
        return [EventRec(r.id, r.camera_id, utc(r.at), r.kind, r.message) for r in s.scalars(query)]


# ---- the segment index ----


def list_segments(
    system: System,
    actor: Person,
    *,
    camera: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[SegmentRec]:
    """Sealed segments overlapping [start, end), oldest first (at most ``limit``; with
    ``newest_first``, the latest ``limit`` of them, latest first)."""
    if start is not None:
        start = _aware(start, "--from")
    if end is not None:
        end = _aware(end, "--to")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("--to must be after --from")
    terms: list[Any] = [] if camera is None else [m.Segment.camera_id == camera]
    order = (
        (m.Segment.start_at.desc(), m.Segment.id.desc())
        if newest_first
        else (m.Segment.start_at, m.Segment.id)
    )
    with system.reads() as s:
        seen = _visible(s, actor, camera)
        if seen is not None:
            terms.append(m.Segment.camera_id.in_(sorted(seen)))
        if start is not None:
            terms += windows.overlapping(s, start, end, None if camera is None else [camera])
        elif end is not None:
            terms.append(m.Segment.start_at < end)
        rows = list(s.scalars(select(m.Segment).where(*terms).order_by(*order).limit(limit)))
        return [_segment(r) for r in rows]


def get_segment(system: System, actor: Person, segment_id: int) -> SegmentRec | None:
    """One segment of the index (metadata only, no bytes), deleted or not."""
    with system.reads() as s:
        row = s.get(m.Segment, segment_id)
        if row is not None:
            authz.on_cameras(s, actor, "recordings.read", [row.camera_id], kind="segment")
        return None if row is None else _segment(row)


def _segment(r: m.Segment) -> SegmentRec:
    return SegmentRec(
        r.id,
        r.camera_id,
        r.seq,
        utc(r.start_at),
        utc(r.end_at),
        r.size_bytes,
        r.sha256,
        r.storage_key,
        r.leaf_index,
        _opt_utc(r.deleted_at),
        r.copy,
        r.late,
        r.node,
    )


# ---- totals ----


@dataclass(frozen=True)
class FootageTotals:
    """Counts of the segment index and the ledger, read in one transaction (/metrics)."""

    segments_sealed: int  # ever sealed, deleted ones included
    segments_live: int  # sealed and not deleted
    bytes_live: int
    gaps: int
    ledger_size: int


def footage_totals(system: System) -> FootageTotals:
    with system.reads() as s:
        live, size = s.execute(
            select(func.count(), func.coalesce(func.sum(m.Segment.size_bytes), 0)).where(
                m.Segment.deleted_at.is_(None)
            )
        ).one()
        sealed = s.scalar(select(func.count()).select_from(m.Segment)) or 0
        gaps = s.scalar(select(func.count()).select_from(m.Gap)) or 0
        return FootageTotals(sealed, live, size, gaps, system.ledger.size(s))
