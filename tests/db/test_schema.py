"""The migrations build exactly the tables, columns and indexes the models declare, on
SQLite and PostgreSQL, so a model change without its migration (or the other way round)
fails here rather than in production. And the newest index migration goes both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from oversight.db.models import Base
from tests.conftest import Env
from tests.db.test_ledger_migration import _migrate

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


def test_the_segment_hash_index_migration_goes_down_and_up(initialised: Env) -> None:
    assert "ix_segments_camera_sha256" in _indexes(initialised.url, "segments")
    _migrate(initialised.url, command.downgrade, "0011")
    assert "ix_segments_camera_sha256" not in _indexes(initialised.url, "segments")
    _migrate(initialised.url, command.upgrade, "head")
    assert "ix_segments_camera_sha256" in _indexes(initialised.url, "segments")
