"""Retention use cases: keep-for settings, marks, holds, planning, the purge, and the
refusal of every other way to delete footage within retention (Art. 15(2)).

The purge appends each ``segment_deleted`` leaf and marks the index row deleted in one
transaction *before* the bytes are removed, so a crash at any point leaves either
footage that is still sealed, or a recorded deletion whose bytes the next run removes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.db.driver import bind_value, placeholder
from oversight.domain import retention as domain
from oversight.errors import InvalidInput, NotFound, RuleViolation
from oversight.ledger import leaves
from oversight.rules.schema import IntegrityRule
from oversight.services import windows

log = logging.getLogger(__name__)
_R = TypeVar("_R", m.RetentionMark, m.RetentionHold)

DEPLOYMENT = "*"
_BATCH = 1000

Progress = Callable[[int, int], None]
"""Called with (segments, bytes) just deleted."""


def _check_text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{what} must not be empty")
    return value


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


def _leaf(system: System, action: str, subject: str, details: dict[str, Any]) -> dict[str, Any]:
    return leaves.retention(
        at=system.clock.now(), actor=system.actor, action=action, subject=subject, details=details
    )


# ---- settings, marks, holds -------------------------------------------------------------


def set_keep_for(system: System, days: int, camera: str | None = None) -> None:
    """Set how long footage is kept (never below the pack's floor, refused with the article)."""
    domain.check_keep_for(system.packs, days, system.clock.now())
    with system.sessions.begin() as session:
        if camera is not None:
            _camera(session, camera)
        scope = camera or DEPLOYMENT
        [index] = system.ledger.append(
            session,
            [
                _leaf(
                    system,
                    "keep.set",
                    f"camera:{camera}" if camera else "deployment",
                    {"keep_days": days},
                )
            ],
        )
        row = session.get(m.RetentionPolicy, scope) or m.RetentionPolicy(scope=scope)
        row.keep_days, row.set_by, row.set_at, row.leaf_index = (
            days,
            system.actor,
            system.clock.now(),
            index,
        )
        session.add(row)


def _record_range(
    system: System,
    action: str,
    camera: str,
    start: datetime,
    end: datetime,
    reason: str,
    make_row: Callable[[int, str], _R],
) -> _R:
    """A mark or a hold: checked, a ledger leaf, and its row, in one transaction."""
    _check_range(start, end)
    reason = _check_text(reason, "the reason")
    with system.sessions.begin() as session:
        _camera(session, camera)
        [index] = system.ledger.append(
            session,
            [_leaf(system, action, f"camera:{camera}", _range(start, end) | {"reason": reason})],
        )
        row = make_row(index, reason)
        session.add(row)
        session.flush()
        return row


def mark_important(
    system: System, camera: str, start: datetime, end: datetime, reason: str
) -> m.RetentionMark:
    row = _record_range(
        system,
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
            marked_by=system.actor,
            created_at=system.clock.now(),
            leaf_index=index,
        ),
    )
    _extend_locks(system, camera, start, end, domain.IMPORTANT)
    return row


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
    system: System, camera: str, start: datetime, end: datetime, reason: str
) -> m.RetentionHold:
    row = _record_range(
        system,
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
            placed_by=system.actor,
            created_at=system.clock.now(),
            leaf_index=index,
        ),
    )
    _mirror_holds(system, camera, start, end)
    return row


def release_hold(system: System, hold_id: int, reason: str) -> m.RetentionHold:
    """Release a hold; the person who placed it may not release it alone."""
    reason = _check_text(reason, "the reason")
    with system.sessions.begin() as session:
        row = session.get(m.RetentionHold, hold_id)
        if row is None:
            raise NotFound(f"hold {hold_id} does not exist")
        if row.released_at is not None:
            raise InvalidInput(f"hold {hold_id} was already released by {row.released_by}")
        if row.placed_by == system.actor:
            raise InvalidInput(
                f"hold {hold_id} was placed by {row.placed_by}: a second person must release it"
            )
        [index] = system.ledger.append(
            session,
            [_leaf(system, "release", f"hold:{hold_id}", {"reason": reason})],
        )
        row.released_at, row.released_by = system.clock.now(), system.actor
        row.release_reason, row.release_leaf = reason, index
    _mirror_holds(system, row.camera_id, row.start_at, row.end_at)
    return row


def _range(start: datetime, end: datetime) -> dict[str, Any]:
    return {"start": leaves.instant(start), "end": leaves.instant(end)}


@dataclass(frozen=True)
class State:
    policies: list[m.RetentionPolicy]
    marks: list[m.RetentionMark]
    holds: list[m.RetentionHold]


def state(system: System) -> State:
    with system.reads() as session:
        return State(
            list(session.scalars(select(m.RetentionPolicy).order_by(m.RetentionPolicy.scope))),
            list(session.scalars(select(m.RetentionMark).order_by(m.RetentionMark.id))),
            list(session.scalars(select(m.RetentionHold).order_by(m.RetentionHold.id))),
        )


# ---- planning ---------------------------------------------------------------------------


def _inputs(
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


def _live_segments(session: Session, ids: Sequence[int] | None = None) -> list[domain.SegmentInfo]:
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
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    make = domain.SegmentInfo._make
    return [make(row) for row in rows]


def make_plan(system: System, at: datetime | None = None) -> domain.Plan:
    now = at or system.clock.now()
    with system.reads() as session:
        marks, holds, keep = _inputs(session)
        return domain.plan(_live_segments(session), marks, holds, keep, system.packs, now)


# ---- deletion ---------------------------------------------------------------------------


def _integrity_article(system: System) -> tuple[str, str]:
    rules = system.packs.rules(IntegrityRule, system.packs.local_date(system.clock.now()))
    if not rules:
        return "original_integrity", "Art. 15(2)"
    _, rule = rules[0]
    return rule.id, rule.cite


def delete_segment(system: System, segment_id: int, reason: str) -> None:
    """The only way to delete one segment by hand: refused within retention (Art. 15(2)),
    and the refused attempt is itself recorded in the ledger."""
    reason = _check_text(reason, "the reason")
    with system.reads() as session:
        row = session.get(m.Segment, segment_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"segment {segment_id} does not exist or was already deleted")
        marks, holds, keep = _inputs(session)
        [decision] = domain.plan(
            _live_segments(session, [segment_id]),
            marks,
            holds,
            keep,
            system.packs,
            system.clock.now(),
        ).decisions
    if not decision.expired:
        rule, article = _integrity_article(system)
        why = (
            "it is under a legal hold"
            if decision.held_by
            else (f"it must be kept until {decision.keep_until.isoformat()} ({decision.basis})")
        )
        with system.sessions.begin() as session:
            system.ledger.append(
                session,
                [
                    _leaf(
                        system,
                        "delete.refused",
                        f"segment:{row.storage_key}",
                        {"reason": reason, "rule": rule},
                    )
                ],
            )
        log.warning("refused to delete segment %s within retention (%s)", segment_id, article)
        raise RuleViolation(
            f"segment {segment_id} may not be deleted: {why}", rule=rule, article=article
        )
    _delete_batch(system, [decision], reason=reason)


@dataclass
class RunResult:
    run_id: int
    segments: int
    bytes: int
    first_leaf: int | None
    last_leaf: int | None
    certificate: Path | None
    resumed: int  # deletions recorded by an earlier, interrupted run whose bytes went now


def _delete_batch(
    system: System, decisions: Sequence[domain.Decision], *, reason: str
) -> list[dict[str, Any]]:
    """Record, then remove. Returns certificate entries for what was deleted."""
    entries: list[dict[str, Any]] = []
    with system.sessions.begin() as session:
        system.ledger.lock(session)
        rows = {
            r.id: r
            for r in session.execute(
                select(
                    m.Segment.id,
                    m.Segment.camera_id,
                    m.Segment.seq,
                    m.Segment.start_at,
                    m.Segment.end_at,
                    m.Segment.storage_key,
                    m.Segment.sha256,
                    m.Segment.size_bytes,
                ).where(
                    m.Segment.id.in_([d.segment.id for d in decisions]),
                    m.Segment.deleted_at.is_(None),
                )
            )
        }
        todo = [d for d in decisions if d.segment.id in rows]
        if not todo:
            return []
        now = system.clock.now()
        indexes = system.ledger.append(
            session,
            [
                leaves.segment_deleted(
                    at=now,
                    segment=rows[d.segment.id].storage_key,
                    sha256=rows[d.segment.id].sha256,
                    reason=reason,
                    rule=f"{d.floor.pack_id} {d.floor.article}: {d.basis}",
                )
                for d in todo
            ],
        )
        _mark_deleted(session, [(d.segment.id, i) for d, i in zip(todo, indexes, strict=True)], now)
        for d, index in zip(todo, indexes, strict=True):
            row = rows[d.segment.id]
            entries.append(
                {
                    "segment": row.id,
                    "camera": row.camera_id,
                    "seq": row.seq,
                    "start": leaves.instant(row.start_at),
                    "end": leaves.instant(row.end_at),
                    "storage_key": row.storage_key,
                    "sha256": row.sha256,
                    "bytes": row.size_bytes,
                    "keep_until": leaves.instant(d.keep_until),
                    "basis": d.basis,
                    "leaf_index": index,
                }
            )
    # Committed: the deletion is on record. Now the bytes may go.
    _remove_bytes(system, [(e["segment"], e["storage_key"]) for e in entries])
    return entries


def _mark_deleted(session: Session, done: Sequence[tuple[int, int]], now: datetime) -> None:
    """Set deleted_at and deleted_leaf by primary key in one DBAPI executemany: the ORM's
    bulk update costs more per row than the ledger leaf that records the deletion."""
    conn = session.connection()
    at = bind_value(conn, m.Segment.__table__.c.deleted_at, now)
    mark = placeholder(conn)
    conn.exec_driver_sql(
        f"UPDATE segments SET deleted_at = {mark}, deleted_leaf = {mark} WHERE id = {mark}",  # noqa: S608
        [(at, leaf, segment) for segment, leaf in done],
    )


def _remove_bytes(system: System, targets: Sequence[tuple[int, str]]) -> None:
    system.store.delete_many([key for _, key in targets])
    with system.sessions.begin() as session:
        session.execute(
            update(m.Segment)
            .where(m.Segment.id.in_([i for i, _ in targets]))
            .values(bytes_removed_at=system.clock.now())
        )


def _finish_interrupted(system: System) -> int:
    """Remove bytes of deletions an interrupted run recorded but did not carry out."""
    with system.reads() as session:
        targets = [
            (int(i), str(key))
            for i, key in session.execute(
                select(m.Segment.id, m.Segment.storage_key).where(
                    m.Segment.deleted_at.is_not(None), m.Segment.bytes_removed_at.is_(None)
                )
            )
        ]
    for start in range(0, len(targets), _BATCH):
        _remove_bytes(system, targets[start : start + _BATCH])
    return len(targets)


def _chunks(items: Sequence[domain.Decision], size: int) -> Iterator[Sequence[domain.Decision]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run(
    system: System,
    *,
    at: datetime | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Delete every expired, unheld segment and write a deletion certificate."""
    now = system.clock.now()
    plan_at = at or now
    if plan_at > now:
        raise InvalidInput("a purge cannot plan for a future instant: footage would go early")
    resumed = _finish_interrupted(system)
    plan = make_plan(system, plan_at)
    expired = plan.expired
    if on_total is not None:
        on_total(len(expired), plan.expired_bytes)
    with system.sessions.begin() as session:
        run_row = m.PurgeRun(
            started_at=now, plan_at=plan_at, actor=system.actor, segments=0, size_bytes=0
        )
        session.add(run_row)
        session.flush()
        run_id = run_row.id
    entries: list[dict[str, Any]] = []
    for batch in _chunks(expired, _BATCH):
        done = _delete_batch(system, batch, reason=f"retention expired (purge run {run_id})")
        entries += done
        if progress is not None:
            progress(len(done), sum(e["bytes"] for e in done))
    certificate = _write_certificate(system, run_id, plan_at, entries) if entries else None
    with system.sessions.begin() as session:
        row = session.get(m.PurgeRun, run_id)
        assert row is not None
        row.finished_at = system.clock.now()
        row.segments, row.size_bytes = len(entries), sum(e["bytes"] for e in entries)
        if entries:
            row.first_leaf = min(e["leaf_index"] for e in entries)
            row.last_leaf = max(e["leaf_index"] for e in entries)
        row.certificate = str(certificate) if certificate else None
        return RunResult(
            run_id,
            row.segments,
            row.size_bytes,
            row.first_leaf,
            row.last_leaf,
            certificate,
            resumed,
        )


# ---- certificates -----------------------------------------------------------------------


def _write_certificate(
    system: System, run_id: int, plan_at: datetime, entries: list[dict[str, Any]]
) -> Path:
    with system.reads() as session:
        checkpoint = system.ledger.latest_checkpoint(session)
    assert checkpoint is not None  # every deletion batch signed one
    cert = {
        "format": "oversight-deletion-certificate/v1",
        "run": run_id,
        "planned_at": leaves.instant(plan_at),
        "issued_at": leaves.instant(system.clock.now()),
        "actor": system.actor,
        "rule_packs": [p.pack.id for p in system.packs.active(system.packs.local_date(plan_at))],
        "ledger": {
            "origin": system.ledger.origin,
            "first_leaf": min(e["leaf_index"] for e in entries),
            "last_leaf": max(e["leaf_index"] for e in entries),
            "checkpoint": checkpoint.note,
        },
        "segments": entries,
        "totals": {"segments": len(entries), "bytes": sum(e["bytes"] for e in entries)},
    }
    directory = system.settings.data_dir / "certificates"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"purge-{run_id:06d}.json"
    # One segment per line: readable, and a 10,000-segment run writes in milliseconds.
    head = json.dumps({k: v for k, v in cert.items() if k != "segments"}, ensure_ascii=False)
    body = ",\n".join(orjson.dumps(e, option=orjson.OPT_SORT_KEYS).decode() for e in entries)
    path.write_text(f'{head[:-1]}, "segments": [\n{body}\n]}}\n', encoding="utf-8")
    return path


def check_certificate(system: System, text: str) -> list[str]:
    """Problems with a deletion certificate against this ledger (empty: it holds).

    1. It parses and names this log. 2. Its checkpoint is signed by our key and matches
    our log at its size. 3. Each listed deletion is a ``segment_deleted`` leaf at the
    stated index, for that storage key and hash, covered by that checkpoint.
    """
    from oversight.ledger import merkle, note
    from oversight.ledger.keys import verifier_key

    try:
        cert = json.loads(text)
        ledger_part = cert["ledger"]
        segments = cert["segments"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("not an Oversight deletion certificate") from None
    if cert.get("format") != "oversight-deletion-certificate/v1":
        raise InvalidInput("not an Oversight deletion certificate (unknown format)")
    problems: list[str] = []
    verifier = note.parse_verifier(verifier_key(system.settings.keys_dir))
    checkpoint, _ = note.open_checkpoint(
        ledger_part["checkpoint"], [verifier], origin=system.ledger.origin
    )
    with system.reads() as session:
        size = system.ledger.size(session)
        if checkpoint.size > size:
            return [f"the certificate's checkpoint covers {checkpoint.size} leaves, we hold {size}"]
        if system.ledger.root(session, checkpoint.size) != checkpoint.root_hash:
            problems.append("the certificate's checkpoint is not consistent with this ledger")
        for entry in segments:
            index = int(entry["leaf_index"])
            if index >= checkpoint.size:
                problems.append(f"leaf {index} is not covered by the certificate's checkpoint")
                continue
            try:
                stored = system.ledger.leaf(session, index)
                obj = leaves.decode(stored.data)
            except (NotFound, InvalidInput):
                problems.append(f"leaf {index} is missing or unreadable")
                continue
            if merkle.leaf_hash(stored.data) != stored.leaf_hash or (
                obj["type"] != "segment_deleted"
                or obj["segment"] != entry["storage_key"]
                or obj["sha256"] != entry["sha256"]
            ):
                problems.append(
                    f"leaf {index} does not record the deletion of {entry['storage_key']}"
                )
    return problems
