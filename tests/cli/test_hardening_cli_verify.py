"""Finding 16 of the security review (issue 18): `oversight verify` on a ledger, index or
register row of the wrong type (SQLite stores whatever an UPDATE gives it) reports a
``malformed`` finding naming the row, and goes on checking the rest; never a traceback."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import Env
from tests.services.test_verify import sealed  # noqa: F401 - the fixture

pytestmark = pytest.mark.parametrize("database_url", [None])  # only SQLite allows this

LATEST_CHECKPOINT = "size = (SELECT max(size) FROM ledger_checkpoints)"
FIRST_SEGMENT = "id = (SELECT min(id) FROM segments)"
FIRST_REGISTER_ROW = "idx = (SELECT min(idx) FROM register_times)"

CASES = [
    # (table, column, SQL value, which row, the object the finding names)
    ("ledger_leaves", "data", "'not bytes'", "idx = 1", "ledger leaf 1"),
    ("ledger_leaves", "leaf_hash", "'abc'", "idx = 1", "ledger leaf 1"),
    ("ledger_leaves", "leaf_hash", "x'0102'", "idx = 1", "ledger leaf 1"),
    ("ledger_leaves", "parents", "'zz'", "idx = 1", "ledger leaf 1"),
    ("ledger_leaves", "kind", "x'00ff'", "idx = 1", "ledger leaf 1"),
    ("ledger_leaves", "created_at", "'garbage'", "idx = 1", "ledger leaf 1"),
    ("ledger_checkpoints", "size", "'abc'", LATEST_CHECKPOINT, "checkpoint 'abc'"),
    ("ledger_checkpoints", "root", "7", LATEST_CHECKPOINT, "checkpoint"),
    ("ledger_checkpoints", "note", "x'ff00'", LATEST_CHECKPOINT, "checkpoint"),
    ("segments", "bytes", "'abc'", FIRST_SEGMENT, "segment"),
    ("segments", "seq", "'x'", FIRST_SEGMENT, "segment"),
    ("segments", "sha256", "x'00'", FIRST_SEGMENT, "segment"),
    ("segments", "deleted_at", "'garbage'", FIRST_SEGMENT, "segment"),
    ("segments", "leaf_index", "3.5", FIRST_SEGMENT, "segment"),
    ("register_times", "at", "'garbage'", FIRST_REGISTER_ROW, "register"),
]


def _update(env: Env, sql: str) -> None:
    conn = sqlite3.connect(env.data_dir / "oversight.db")
    try:
        with conn:
            assert conn.execute(sql).rowcount == 1, sql
    finally:
        conn.close()


@pytest.mark.parametrize(("table", "column", "value", "where", "obj"), CASES)
def test_a_row_of_the_wrong_type_is_a_malformed_finding(
    sealed: tuple[Env, list[str]],  # noqa: F811 - the fixture
    table: str,
    column: str,
    value: str,
    where: str,
    obj: str,
) -> None:
    env, _ = sealed
    _update(env, f'UPDATE {table} SET "{column}" = {value} WHERE {where}')
    result = env.fails("verify", "--json", code=1)
    report = json.loads(result.output)
    malformed = [p for p in report["problems"] if p["kind"] == "malformed"]
    assert malformed, report["problems"]
    assert any(p["object"].startswith(obj) for p in malformed), malformed
    assert any(column in p["detail"] for p in malformed), malformed
    text = env.fails("verify", code=1).output
    assert "malformed: " in text and "Traceback" not in text


def test_the_other_rows_are_still_checked(sealed: tuple[Env, list[str]]) -> None:  # noqa: F811
    """A malformed leaf is reported, and the footage it does not concern still verified."""
    env, keys = sealed
    _update(env, "UPDATE ledger_leaves SET data = 'not bytes' WHERE idx = 1")
    report = json.loads(env.fails("verify", "--json", code=1).output)
    assert report["ledger_size"] >= 3
    assert report["segments_checked"] == report["segments_total"] == len(keys)
