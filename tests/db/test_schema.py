"""The migrations build exactly the tables, columns and indexes the models declare, on
SQLite and PostgreSQL, so a model change without its migration (or the other way round)
fails here rather than in production. And the newest index migration goes both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from oversight import bootstrap
from oversight.config import Settings
from oversight.db.models import Base, RegisterTime
from oversight.ledger.leaves import REGISTER_TYPES, decode, parse_instant
from oversight.services.sealing import seal_file
from tests.conftest import Env
from tests.db.test_ledger_migration import _migrate
from tests.recorder.helpers import add_camera

STRUCTURE = {"add_table", "remove_table", "add_column", "remove_column"}
STRUCTURE |= {"add_index", "remove_index"}


def _differences(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    found = []
    for entry in diff:
        op = entry[0] if isinstance(entry, tuple) else entry[0][0]
        if op in STRUCTURE:
            subject = entry[1] if isinstance(entry, tuple) else entry[0][1]
            found.append((op, str(getattr(subject, "name", subject))))
    return [f for f in found if f[1] != "alembic_version"]


def _indexes(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {str(ix["name"]) for ix in inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()


def test_the_migrated_schema_is_the_models_schema(initialised: Env) -> None:
    assert _differences(initialised.url) == []


@pytest.mark.parametrize(
    ("index", "before"),
    [("ix_segments_camera_sha256", "0011"), ("ix_segments_pending_removal", "0014")],
)
def test_a_segment_index_migration_goes_down_and_up(
    initialised: Env, index: str, before: str
) -> None:
    assert index in _indexes(initialised.url, "segments")
    _migrate(initialised.url, command.downgrade, before)
    assert index not in _indexes(initialised.url, "segments")
    _migrate(initialised.url, command.upgrade, "head")
    assert index in _indexes(initialised.url, "segments")


def test_the_window_migration_backfills_each_cameras_longest_segment(
    initialised: Env, tmp_path: Path
) -> None:
    system = bootstrap.build(Settings())
    try:
        add_camera(system, "cam1", "rtsp://10.0.0.9/live")
        add_camera(system, "cam2", "rtsp://10.0.0.10/live")
        for n, (a, b) in enumerate([(0.0, 10.0), (10.0, 71.000001), (71.000001, 80.0)]):
            f = tmp_path / f"{n}.mp4"
            f.write_bytes(b"segment %d" % n)
            start = datetime(2026, 5, 1, tzinfo=UTC)
            seal_file(
                system, camera="cam1", path=f,
                start=start + timedelta(seconds=a), end=start + timedelta(seconds=b),
            )  # fmt: skip
    finally:
        system.close()
    _migrate(initialised.url, command.downgrade, "0012")
    assert "ix_segments_camera_end" in _indexes(initialised.url, "segments")
    assert "ix_segments_start" not in _indexes(initialised.url, "segments")
    _migrate(initialised.url, command.upgrade, "head")
    assert "ix_segments_camera_end" not in _indexes(initialised.url, "segments")
    assert "ix_segments_start" in _indexes(initialised.url, "segments")
    engine = create_engine(initialised.url)
    try:
        with engine.connect() as conn:
            longest = dict(conn.execute(text("SELECT id, longest_segment_ms FROM cameras")).all())
    finally:
        engine.dispose()
    # 61.000001 s is 61,001 ms rounded up; the backfill may add a little, never less.
    assert 61_001 <= longest["cam1"] <= 61_004
    assert longest["cam2"] == 0  # nothing sealed


def test_the_register_migration_backfills_the_time_of_every_register_leaf(
    initialised: Env, tmp_path: Path
) -> None:
    system = bootstrap.build(Settings())
    try:
        add_camera(system, "cam1", "rtsp://10.0.0.9/live")  # a registry leaf: not indexed
        for n in range(3):
            f = tmp_path / f"{n}.mp4"
            f.write_bytes(b"segment %d" % n)
            start = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=n)
            seal_file(system, camera="cam1", path=f, start=start, end=start + timedelta(minutes=1))
        with system.reads() as s:
            want = {
                (leaf.index, parse_instant(decode(leaf.data)["at"]))
                for leaf in system.ledger.leaves(s)
                if leaf.kind in REGISTER_TYPES
            }
    finally:
        system.close()
    assert len(want) == 3

    def stored() -> set[tuple[int, datetime]]:
        engine = create_engine(initialised.url)
        try:
            with Session(engine) as s:
                return {
                    (int(i), at) for i, at in s.execute(select(RegisterTime.idx, RegisterTime.at))
                }
        finally:
            engine.dispose()

    assert stored() == want
    _migrate(initialised.url, command.downgrade, "0013")
    engine = create_engine(initialised.url)
    try:
        assert "register_times" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    _migrate(initialised.url, command.upgrade, "head")
    assert stored() == want
    assert "ix_register_times_at" in _indexes(initialised.url, "register_times")
