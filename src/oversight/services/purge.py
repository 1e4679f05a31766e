"""The purge: footage goes once its retention has run out, and by no other way.

Each batch appends its ``segment_deleted`` leaves and marks the index rows deleted in
one transaction *before* the bytes are removed, so a crash at any point leaves either
footage that is still sealed, or a recorded deletion whose bytes the next run removes
(``bytes_removed_at`` is set only once they are gone). A run removes each batch's
bytes after its commit and notes that they went in the next batch's transaction.
Deleting a segment within retention by hand is refused (Art. 15(2)), and the refused
attempt is itself a leaf.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.db.driver import bind_value, driver_rows, placeholder
from oversight.domain import retention as domain
from oversight.domain.people import Person
from oversight.domain.text import check_text
from oversight.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from oversight.ledger import leaves
from oversight.rules.schema import IntegrityRule
from oversight.services import authz
from oversight.services.access import record_refusal
from oversight.services.document_retention import purge_documents
from oversight.services.retention import (
    live_segments,
    make_plan,
    plan_inputs,
    retention_leaf,
)

log = logging.getLogger(__name__)
_BATCH = 1000

Progress = Callable[[int, int], None]
"""Called with (segments, bytes) just deleted."""


def _integrity_article(system: System) -> tuple[str, str]:
    rules = system.packs.rules(IntegrityRule, system.packs.local_date(system.clock.now()))
    if not rules:
        return "original_integrity", "Art. 15(2)"
    _, rule = rules[0]
    return rule.id, rule.cite


def delete_segment(system: System, actor: Person, segment_id: int, reason: str) -> None:
    """The only way to delete one segment by hand: refused within retention (Art. 15(2)),
    and the refused attempt is itself recorded in the ledger."""
    reason = check_text(reason, "the reason")
    with system.reads() as session:
        row = session.get(m.Segment, segment_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"segment {segment_id} does not exist or was already deleted")
        try:
            authz.on_cameras(
                session, actor, "segments.delete", [row.camera_id], kind="segment", id=segment_id
            )
        except PermissionDenied as exc:
            denied: PermissionDenied | None = exc
        else:
            denied = None
    if denied is not None:
        record_refusal(
            system, denied, actors=[actor.id], action="delete", target=f"segment:{segment_id}"
        )
        raise denied
    with system.reads() as session:
        marks, holds, keep = plan_inputs(session)
        [decision] = domain.plan(
            live_segments(session, [segment_id]),
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
            details = {"reason": reason, "rule": rule}
            refusal = retention_leaf(
                system, actor, "delete.refused", f"segment:{row.storage_key}", details
            )
            system.ledger.append(session, [refusal])
        log.warning("refused to delete segment %s within retention (%s)", segment_id, article)
        raise RuleViolation(
            f"segment {segment_id} may not be deleted: {why}", rule=rule, article=article
        )
    done = _record(system, [decision], reason=reason, removed=())
    _remove_bytes(system, [(e["segment"], e["storage_key"]) for e in done])


@dataclass
class RunResult:
    run_id: int
    segments: int
    bytes: int
    first_leaf: int | None
    last_leaf: int | None
    certificate: Path | None
    resumed: int  # deletions recorded by an earlier, interrupted run whose bytes went now
    documents: int = 0  # documents of refused or withdrawn requests removed (finding 12)


_COLUMNS = "id, camera_id, seq, start_at, end_at, storage_key, sha256, bytes"


def _instant_reader(conn: Connection) -> Callable[[Any], str]:
    """A stored instant, as the driver returns it, in the leaves' RFC 3339 form."""
    if conn.dialect.name != "sqlite":
        return leaves.instant  # the driver returns aware datetimes

    def from_text(value: str) -> str:
        # SQLAlchemy writes naive UTC as 'YYYY-MM-DD HH:MM:SS.ffffff' (db/types.py):
        # rewriting the text skips a datetime per instant, a third of a batch's reading.
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        return leaves.instant(datetime.fromisoformat(value).replace(tzinfo=UTC))

    return from_text


def reread_sql(mark: str, count: int) -> str:
    """The batch's rows, by primary key alone, liveness tested by the caller: with
    "deleted_at IS NULL" in the query, SQLite walks the live-segments index instead,
    every live segment of the deployment for each batch."""
    marks = ", ".join([mark] * count)
    return f"SELECT {_COLUMNS}, deleted_at FROM segments WHERE id IN ({marks})"  # noqa: S608


def _record(
    system: System,
    decisions: Sequence[domain.Decision],
    *,
    reason: str,
    removed: Sequence[int],
) -> list[dict[str, Any]]:
    """One transaction: the deletions' leaves and index rows (of segments still live,
    read again under the log's lock), and ``removed``, earlier segments whose bytes
    have gone since. Returns certificate entries for the deletions."""
    with system.sessions.begin() as session:
        system.ledger.lock(session)
        now = system.clock.now()
        if removed:
            _mark_removed(session, removed, now)
        conn = session.connection()
        mark = placeholder(conn)
        ids = [d.segment.id for d in decisions]
        rows = {row[0]: row for row in driver_rows(conn, reread_sql(mark, len(ids)), ids)}
        rows = {i: row for i, row in rows.items() if row[8] is None}  # still live
        todo = [(d, rows[d.segment.id]) for d in decisions if d.segment.id in rows]
        if not todo:
            return []
        indexes = system.ledger.append(
            session,
            [
                leaves.segment_deleted(
                    at=now,
                    segment=row[5],
                    sha256=row[6],
                    reason=reason,
                    rule=f"{d.floor.pack_id} {d.floor.article}: {d.basis}",
                )
                for d, row in todo
            ],
        )
        at = bind_value(conn, m.Segment.__table__.c.deleted_at, now)
        conn.exec_driver_sql(
            f"UPDATE segments SET deleted_at = {mark}, deleted_leaf = {mark} WHERE id = {mark}",  # noqa: S608
            [(at, index, row[0]) for (_, row), index in zip(todo, indexes, strict=True)],
        )
        instant = _instant_reader(conn)
        return [
            {
                "segment": row[0],
                "camera": row[1],
                "seq": row[2],
                "start": instant(row[3]),
                "end": instant(row[4]),
                "storage_key": row[5],
                "sha256": row[6],
                "bytes": row[7],
                "keep_until": leaves.instant(d.keep_until),
                "basis": d.basis,
                "leaf_index": index,
            }
            for (d, row), index in zip(todo, indexes, strict=True)
        ]


def _mark_removed(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Note that these deleted segments' bytes are gone: a resumed run skips them."""
    conn = session.connection()
    at = bind_value(conn, m.Segment.__table__.c.bytes_removed_at, now)
    mark = placeholder(conn)
    conn.exec_driver_sql(
        f"UPDATE segments SET bytes_removed_at = {mark} WHERE id = {mark}",  # noqa: S608
        [(at, i) for i in ids],
    )


def _remove_bytes(system: System, targets: Sequence[tuple[int, str]]) -> None:
    system.store.delete_many([key for _, key in targets])
    with system.sessions.begin() as session:
        _mark_removed(session, [i for i, _ in targets], system.clock.now())


def pending_sql(dialect: str) -> str:
    """Recorded deletions whose bytes are not noted as gone, through the partial index
    that holds just those (migration 0015), under the index's own condition. SQLite is
    told to use it: without statistics it prefers the live-segments index, which walks
    every segment ever deleted."""
    table = "segments INDEXED BY ix_segments_pending_removal" if dialect == "sqlite" else "segments"
    return f"SELECT id, storage_key FROM {table} WHERE {m.PENDING_REMOVAL}"  # noqa: S608


def _finish_interrupted(system: System) -> int:
    """Remove bytes of deletions an interrupted run recorded but did not carry out."""
    with system.reads() as session:
        targets = [
            (int(i), str(key))
            for i, key in driver_rows(
                session.connection(),
                pending_sql(session.get_bind().dialect.name),
                (),
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
    actor: Person,
    *,
    at: datetime | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Delete every expired, unheld segment and write a deletion certificate; then
    remove the documents of refused or withdrawn requests past their retention."""
    now = system.clock.now()
    plan_at = at or now
    if plan_at > now:
        raise InvalidInput("a purge cannot plan for a future instant: footage would go early")
    with system.reads() as session:
        authz.deployment(session, actor, "retention.run")
    resumed = _finish_interrupted(system)
    plan = make_plan(system, plan_at)
    expired = plan.expired
    if on_total is not None:
        on_total(len(expired), plan.expired_bytes)
    with system.sessions.begin() as session:
        run_row = m.PurgeRun(
            started_at=now, plan_at=plan_at, actor=actor.id, segments=0, size_bytes=0
        )
        session.add(run_row)
        session.flush()
        run_id = run_row.id
    entries: list[dict[str, Any]] = []
    reason = f"retention expired (purge run {run_id})"
    removed: list[int] = []  # the last batch's segments, whose bytes went after its commit
    for batch in _chunks(expired, _BATCH):
        done = _record(system, batch, reason=reason, removed=removed)
        # Removed in line, not on a second thread: that thread needs the GIL between
        # files and is starved by this one's work, so it measured slower than this.
        system.store.delete_many([e["storage_key"] for e in done])
        removed = [e["segment"] for e in done]
        entries += done
        if progress is not None:
            progress(len(done), sum(e["bytes"] for e in done))
    certificate = _write_certificate(system, actor, run_id, plan_at, entries) if entries else None
    documents = purge_documents(system, actor, plan_at)
    with system.sessions.begin() as session:
        if removed:
            _mark_removed(session, removed, system.clock.now())
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
            documents,
        )


# ---- certificates -----------------------------------------------------------------------


def _write_certificate(
    system: System, actor: Person, run_id: int, plan_at: datetime, entries: list[dict[str, Any]]
) -> Path:
    with system.reads() as session:
        checkpoint = system.ledger.latest_checkpoint(session)
    assert checkpoint is not None  # every deletion batch signed one
    cert = {
        "format": "oversight-deletion-certificate/v1",
        "run": run_id,
        "planned_at": leaves.instant(plan_at),
        "issued_at": leaves.instant(system.clock.now()),
        "actor": actor.id,
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
    from oversight.ledger.keys import trusted_verifier_keys

    try:
        cert = json.loads(text)
        ledger_part = cert["ledger"]
        segments = cert["segments"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("not an Oversight deletion certificate") from None
    if cert.get("format") != "oversight-deletion-certificate/v1":
        raise InvalidInput("not an Oversight deletion certificate (unknown format)")
    problems: list[str] = []
    trusted = [note.parse_verifier(k) for k in trusted_verifier_keys(system.settings.keys_dir)]
    checkpoint, _ = note.open_checkpoint(
        ledger_part["checkpoint"], trusted, origin=system.ledger.origin
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
