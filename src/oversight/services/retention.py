"""Retention use cases: keep-for settings, marks, holds and planning. The purge, and the
refusal of every other way to delete footage within retention, are ``services.purge``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.db.driver import driver_rows, placeholder
from oversight.domain import retention as domain
from oversight.domain.people import Person
from oversight.domain.text import check_text
from oversight.errors import InvalidInput, NotFound, PermissionDenied
from oversight.ledger import leaves
from oversight.services import authz, windows

log = logging.getLogger(__name__)
_R = TypeVar("_R", m.RetentionMark, m.RetentionHold)

DEPLOYMENT = "*"


# What the interfaces get: copies of the rows (same attribute names), not the rows.
@dataclass(frozen=True)
class PolicyRec:
    scope: str
    keep_days: int
    set_by: str
    set_at: datetime
    leaf_index: int


@dataclass(frozen=True)
class MarkRec:
    id: int
    camera_id: str
    start_at: datetime
    end_at: datetime
    reason: str
    marked_by: str
    created_at: datetime
    leaf_index: int


@dataclass(frozen=True)
class HoldRec:
    id: int
    camera_id: str
    start_at: datetime
    end_at: datetime
    reason: str
    placed_by: str
    created_at: datetime
    leaf_index: int
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None
    release_leaf: int | None


_Rec = TypeVar("_Rec", PolicyRec, MarkRec, HoldRec)


def _rec(kind: type[_Rec], row: object) -> _Rec:
    return kind(**{f.name: getattr(row, f.name) for f in fields(kind)})


def _check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("times must carry a time zone (e.g. Z or +08:00)")
    if end <= start:
        raise InvalidInput(f"the range ends ({end.isoformat()}) before it starts")


def _camera(session: Session, camera: str) -> m.Camera:
    row = session.get(m.Camera, camera)
    if row is None:
        raise NotFound(f"camera {camera!r} does not exist")
    return row


def retention_leaf(
    system: System, actor: Person, action: str, subject: str, details: dict[str, Any]
) -> dict[str, Any]:
    return leaves.retention(
        at=system.clock.now(), actor=actor.id, action=action, subject=subject, details=details
    )


def _governed(
    system: System, actor: Person, action: str, target: str, decide: Callable[[Session], None]
) -> None:
    """Ask the policy about footage governance (marks, holds, releases) in a read
    transaction; a refusal is an ``access`` leaf of the register, then raised."""
    try:
        with system.reads() as session:
            decide(session)
    except PermissionDenied as exc:
        from oversight.services.access import record_refusal  # access imports retention

        record_refusal(system, exc, actors=[actor.id], action=action, target=target)
        raise


# ---- settings, marks, holds -------------------------------------------------------------


def set_keep_for(system: System, actor: Person, days: int, camera: str | None = None) -> None:
    """Set how long footage is kept (never below the pack's floor, refused with the article)."""
    domain.check_keep_for(system.packs, days, system.clock.now())
    with system.sessions.begin() as session:
        if camera is not None:
            _camera(session, camera)
            authz.on_cameras(session, actor, "retention.configure", [camera])
        else:
            authz.deployment(session, actor, "retention.configure")
        scope = camera or DEPLOYMENT
        [index] = system.ledger.append(
            session,
            [
                retention_leaf(
                    system,
                    actor,
                    "keep.set",
                    f"camera:{camera}" if camera else "deployment",
                    {"keep_days": days},
                )
            ],
        )
        row = session.get(m.RetentionPolicy, scope) or m.RetentionPolicy(scope=scope)
        row.keep_days, row.set_by, row.set_at, row.leaf_index = (
            days,
            actor.id,
            system.clock.now(),
            index,
        )
        session.add(row)


def _record_range(
    system: System,
    actor: Person,
    because: str,
    action: str,
    camera: str,
    start: datetime,
    end: datetime,
    reason: str,
    make_row: Callable[[int, str], _R],
) -> _R:
    """A mark or a hold: checked, a ledger leaf, and its row, in one transaction."""
    _check_range(start, end)
    reason = check_text(reason, "the reason")

    def decide(session: Session) -> None:
        _camera(session, camera)
        authz.on_cameras(session, actor, because, [camera])

    _governed(system, actor, f"retention.{action}", f"camera:{camera}", decide)
    with system.sessions.begin() as session:
        _camera(session, camera)
        authz.on_cameras(session, actor, because, [camera])
        [index] = system.ledger.append(
            session,
            [
                retention_leaf(
                    system,
                    actor,
                    action,
                    f"camera:{camera}",
                    _range(start, end) | {"reason": reason},
                )
            ],
        )
        row = make_row(index, reason)
        session.add(row)
        session.flush()
        return row


def mark_important(
    system: System,
    actor: Person,
    camera: str,
    start: datetime,
    end: datetime,
    reason: str,
    *,
    because: str = "retention.mark",
) -> MarkRec:
    """Mark footage important (kept the pack's longer period). ``because`` is the policy
    action that allows it: marking itself, or an incident report, which requires it."""
    row = _record_range(
        system,
        actor,
        because,
        "mark",
        camera,
        start,
        end,
        reason,
        lambda index, why: m.RetentionMark(
            camera_id=camera,
            start_at=start,
            end_at=end,
            reason=why,
            marked_by=actor.id,
            created_at=system.clock.now(),
            leaf_index=index,
        ),
    )
    _extend_locks(system, camera, start, end, domain.IMPORTANT)
    return _rec(MarkRec, row)


def _extend_locks(
    system: System, camera: str, start: datetime, end: datetime, retention_class: str
) -> None:
    """Raise a WORM store's lock on every covered segment to its new earliest deletion
    (a no-op on the local store). Runs after the commit: the mark is on record first."""
    with system.reads() as session:
        covered = session.execute(
            select(m.Segment.storage_key, m.Segment.end_at).where(
                m.Segment.camera_id == camera,
                m.Segment.deleted_at.is_(None),
                *windows.overlapping(session, start, end, [camera]),
            )
        ).all()
    for key, seg_end in covered:
        floor = domain.floor_for(system.packs, retention_class, seg_end).days
        system.store.extend_retention(key, seg_end + timedelta(days=floor))


def _mirror_holds(system: System, camera: str, start: datetime, end: datetime) -> None:
    """Set the store's legal hold on each segment of ``camera`` in [start, end) to
    whether an active hold covers it (enforced by S3 Object Lock; checked only on the
    local store). Runs after the commit: the hold is on record first, and a failure
    here is an error the operator sees, with the hold already in force in Oversight."""
    with system.reads() as session:
        covered = session.execute(
            select(m.Segment.storage_key, m.Segment.start_at, m.Segment.end_at).where(
                m.Segment.camera_id == camera,
                m.Segment.deleted_at.is_(None),
                *windows.overlapping(session, start, end, [camera]),
            )
        ).all()
        active = active_holds(session, camera, start, end)
    for key, seg_start, seg_end in covered:
        held = any(h0 < seg_end and h1 > seg_start for h0, h1 in active)
        try:
            system.store.set_legal_hold(key, held)
        except NotFound:
            log.warning("segment %s has no stored bytes: `oversight verify` reports it", key)


def active_holds(
    session: Session, camera: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The [start, end) ranges of unreleased holds on ``camera`` overlapping [start, end)."""
    rows = session.execute(
        select(m.RetentionHold.start_at, m.RetentionHold.end_at).where(
            m.RetentionHold.camera_id == camera,
            m.RetentionHold.released_at.is_(None),
            m.RetentionHold.start_at < end,
            m.RetentionHold.end_at > start,
        )
    ).all()
    return [(a, b) for a, b in rows]


def place_hold(
    system: System, actor: Person, camera: str, start: datetime, end: datetime, reason: str
) -> HoldRec:
    row = _record_range(
        system,
        actor,
        "retention.mark",
        "hold",
        camera,
        start,
        end,
        reason,
        lambda index, why: m.RetentionHold(
            camera_id=camera,
            start_at=start,
            end_at=end,
            reason=why,
            placed_by=actor.id,
            created_at=system.clock.now(),
            leaf_index=index,
        ),
    )
    _mirror_holds(system, camera, start, end)
    return _rec(HoldRec, row)


def release_hold(system: System, actor: Person, hold_id: int, reason: str) -> HoldRec:
    """Release a hold; the person who placed it may not release it alone."""
    reason = check_text(reason, "the reason")

    def decide(session: Session) -> None:
        row = session.get(m.RetentionHold, hold_id)
        if row is None:
            raise NotFound(f"hold {hold_id} does not exist")
        authz.on_cameras(
            session, actor, "retention.release", [row.camera_id], kind="hold", id=hold_id
        )

    _governed(system, actor, "retention.release", f"hold:{hold_id}", decide)
    with system.sessions.begin() as session:
        row = session.get(m.RetentionHold, hold_id, with_for_update=True)
        if row is None:
            raise NotFound(f"hold {hold_id} does not exist")
        authz.on_cameras(
            session, actor, "retention.release", [row.camera_id], kind="hold", id=hold_id
        )
        if row.released_at is not None:
            raise InvalidInput(f"hold {hold_id} was already released by {row.released_by}")
        if row.placed_by == actor.id:
            raise InvalidInput(
                f"hold {hold_id} was placed by {row.placed_by}: a second person must release it"
            )
        [index] = system.ledger.append(
            session,
            [retention_leaf(system, actor, "release", f"hold:{hold_id}", {"reason": reason})],
        )
        row.released_at, row.released_by = system.clock.now(), actor.id
        row.release_reason, row.release_leaf = reason, index
    _mirror_holds(system, row.camera_id, row.start_at, row.end_at)
    return _rec(HoldRec, row)


def _range(start: datetime, end: datetime) -> dict[str, Any]:
    return {"start": leaves.instant(start), "end": leaves.instant(end)}


@dataclass(frozen=True)
class State:
    policies: list[PolicyRec]
    marks: list[MarkRec]
    holds: list[HoldRec]


def state(system: System, actor: Person) -> State:
    """Settings, marks and holds ``actor`` may see (a scoped person: their cameras')."""
    with system.reads() as session:
        cameras = authz.visible_cameras(session, actor, "retention.read")

        def seen(camera: str) -> bool:
            return cameras is None or camera in cameras

        return State(
            [
                _rec(PolicyRec, r)
                for r in session.scalars(
                    select(m.RetentionPolicy).order_by(m.RetentionPolicy.scope)
                )
                if r.scope == DEPLOYMENT or seen(r.scope)
            ],
            [
                _rec(MarkRec, r)
                for r in session.scalars(select(m.RetentionMark).order_by(m.RetentionMark.id))
                if seen(r.camera_id)
            ],
            [
                _rec(HoldRec, r)
                for r in session.scalars(select(m.RetentionHold).order_by(m.RetentionHold.id))
                if seen(r.camera_id)
            ],
        )


# ---- planning ---------------------------------------------------------------------------


def plan_inputs(
    session: Session,
) -> tuple[list[domain.Mark], list[domain.Hold], domain.KeepFor]:
    marks = [
        domain.Mark(r.id, r.camera_id, r.start_at, r.end_at)
        for r in session.scalars(select(m.RetentionMark))
    ]
    holds = [
        domain.Hold(r.id, r.camera_id, r.start_at, r.end_at, r.released_at is not None)
        for r in session.scalars(select(m.RetentionHold))
    ]
    policies = {r.scope: r.keep_days for r in session.scalars(select(m.RetentionPolicy))}
    keep = domain.KeepFor(policies.pop(DEPLOYMENT, None), {k: v for k, v in policies.items()})
    return marks, holds, keep


def _epoch_sql(dialect: str, column: str) -> str:
    """POSIX seconds of a stored instant, computed by the database: a million
    ``datetime`` parses in Python cost more than the whole plan. SQLite keeps naive UTC
    text ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (db/types.py): whole seconds from strftime
    plus the fraction as written, so no precision is lost to julianday's doubles."""
    if dialect == "sqlite":
        return (
            f"CAST(strftime('%s', {column}) AS INTEGER) "
            f"+ COALESCE(CAST(substr({column}, 20) AS REAL), 0)"
        )
    return f"CAST(EXTRACT(EPOCH FROM {column}) AS DOUBLE PRECISION)"


def live_segments(session: Session, ids: Sequence[int] | None = None) -> list[domain.SegmentInfo]:
    """Live segments, read through the DBAPI cursor: a million rows through the ORM's
    type processing cost more than planning them."""
    conn = session.connection()
    dialect = conn.dialect.name
    mark = placeholder(conn)
    where = "deleted_at IS NULL"
    params: tuple[Any, ...] = ()
    if ids is not None:
        where += f" AND id IN ({', '.join([mark] * len(ids))})"
        params = tuple(ids)
    # Most segments are live: a table scan beats the (deleted_at, ...) index here.
    table = "segments NOT INDEXED" if dialect == "sqlite" and ids is None else "segments"
    sql = (
        f"SELECT id, camera_id, {_epoch_sql(dialect, 'start_at')}, "  # noqa: S608
        f"{_epoch_sql(dialect, 'end_at')}, bytes FROM {table} WHERE {where} ORDER BY id"
    )  # only column names and placeholders are interpolated
    rows = driver_rows(conn, sql, params)
    make = domain.SegmentInfo._make
    return [make(row) for row in rows]


def make_plan(system: System, at: datetime | None = None) -> domain.Plan:
    now = at or system.clock.now()
    with system.reads() as session:
        marks, holds, keep = plan_inputs(session)
        return domain.plan(live_segments(session), marks, holds, keep, system.packs, now)
