"""The purge engine across several batches: leaves first, then each batch's bytes,
removals noted in the next transaction; certificate instants exact on both
databases; the re-read of a batch is a primary-key lookup, not a walk of live footage."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from oversight import bootstrap
from oversight.db import models as m
from oversight.ledger import leaves
from oversight.services import purge
from oversight.services.sealing import seal_file
from oversight.services.verify import verify
from tests.actors import HOST
from tests.recorder.helpers import add_camera

OLD = datetime.now(UTC) - timedelta(days=60)


def _seal(system: bootstrap.System, tmp: Path, count: int) -> list[tuple[datetime, datetime]]:
    add_camera(system, "cam1", "rtsp://127.0.0.1/cam1")
    spans = []
    for n in range(count):
        # Odd segments start on a whole second: both stored forms of an instant.
        start = OLD.replace(microsecond=0) + timedelta(minutes=n, microseconds=(n % 2) * 123457)
        end = start + timedelta(seconds=59, microseconds=876543)
        path = tmp / f"{n}.mp4"
        path.write_bytes(os.urandom(512))
        seal_file(system, camera="cam1", path=path, start=start, end=end)
        spans.append((start, end))
    return spans


def test_a_purge_of_several_batches_removes_and_notes_every_segment(
    system: bootstrap.System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans = _seal(system, tmp_path, 7)
    monkeypatch.setattr(purge, "_BATCH", 2)  # four batches, three noted by the next one
    seen: list[int] = []
    result = purge.run(system, HOST, progress=lambda segments, _bytes: seen.append(segments))
    assert result.segments == 7 and seen == [2, 2, 2, 1]
    assert list(system.store.objects()) == []
    with system.reads() as s:
        rows = s.execute(
            select(m.Segment.deleted_at, m.Segment.deleted_leaf, m.Segment.bytes_removed_at)
        ).all()
    assert len(rows) == 7 and all(a and leaf and gone for a, leaf, gone in rows)
    assert verify(system).ok
    assert result.certificate is not None
    cert = json.loads(result.certificate.read_text())
    got = [(e["start"], e["end"]) for e in cert["segments"]]
    assert got == [(leaves.instant(a), leaves.instant(b)) for a, b in spans]
    assert purge.check_certificate(system, result.certificate.read_text()) == []


def test_a_failed_removal_stops_the_run_and_the_next_run_finishes_it(
    system: bootstrap.System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seal(system, tmp_path, 5)
    monkeypatch.setattr(purge, "_BATCH", 2)
    real = system.store.delete_many
    calls: list[int] = []

    def second_fails(keys: list[str]) -> None:  # fault injection: a store error mid-run
        calls.append(len(keys))
        if len(calls) == 2:
            raise OSError("simulated I/O error")
        real(keys)

    monkeypatch.setattr(system.store, "delete_many", second_fails)
    with pytest.raises(OSError, match="simulated"):
        purge.run(system, HOST)
    with system.reads() as s:
        pending = s.scalars(
            select(m.Segment.id).where(
                m.Segment.deleted_at.is_not(None), m.Segment.bytes_removed_at.is_(None)
            )
        ).all()
    # The first batch went and was noted by the second's transaction; the second batch
    # is recorded as deleted with its bytes not noted as gone; the fifth is untouched.
    assert len(pending) == 2
    monkeypatch.setattr(system.store, "delete_many", real)
    again = purge.run(system, HOST)
    assert (again.resumed, again.segments) == (2, 1)
    assert list(system.store.objects()) == []
    assert verify(system).ok


def _sqlite_plan(sql: str, params: tuple[int, ...] = ()) -> list[str]:
    engine = create_engine("sqlite://")
    m.Base.metadata.create_all(engine)
    with engine.connect() as conn:
        details = [
            str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
        ]
    engine.dispose()
    return details


def test_the_re_read_of_a_batch_is_a_primary_key_lookup() -> None:
    plan = _sqlite_plan(purge.reread_sql("?", 3), (1, 2, 3))
    assert plan == ["SEARCH segments USING INTEGER PRIMARY KEY (rowid=?)"], plan


def test_pending_removals_are_found_by_their_partial_index_not_by_reading_history() -> None:
    plan = _sqlite_plan(purge.pending_sql("sqlite"))
    assert plan == ["SCAN segments USING INDEX ix_segments_pending_removal"], plan
