"""Helpers for the few hot paths that talk to the DBAPI driver directly (ledger appends,
purges, the retention planner): the ORM's per-row work costs more there than the work
itself. Values still go as parameters; only placeholders are put into SQL text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection


def placeholder(conn: Connection) -> str:
    """The driver's positional placeholder: SQLite's ``?`` or psycopg's ``%s``."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def binder(conn: Connection, column: ColumnElement[Any]) -> Callable[[Any], Any]:
    """Converts values as the driver wants them for ``column`` (e.g. SQLite's datetime
    text); looked up once for a batch, since the lookup costs more than converting."""
    dialect = conn.dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process if process else _same


def _same(value: Any) -> Any:
    return value


def bind_value(conn: Connection, column: ColumnElement[Any], value: Any) -> Any:
    """``value`` as the driver wants it for ``column``."""
    return binder(conn, column)(value)


def driver_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` as the driver's own tuples, in the connection's transaction:
    no Row objects and no type processing (a purge or a plan reads thousands)."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(params))
        return list(cursor.fetchall())
    finally:
        cursor.close()
