"""Engine and session factory for SQLite (embedded) and PostgreSQL (at scale)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DB_FILE_MODE = 0o600


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _create_private(make_url(url).database)
        engine = create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _create_private(database: str | None) -> None:
    """Create a new SQLite database file 0600 (it holds password hashes, identity-document
    numbers and camera credentials). SQLite gives its -wal, -shm and -journal files the
    database file's mode, so they are 0600 too. An existing file is left as it is (the
    compliance check reports it if it is open to others)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    # Any failure (no directory, no permission) is SQLite's to report on first connect.
    with contextlib.suppress(OSError):
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DB_FILE_MODE)
        try:
            os.fchmod(fd, DB_FILE_MODE)  # exactly 0600 whatever the umask left
        finally:
            os.close(fd)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, issue BEGIN, so BEGIN IMMEDIATE is possible.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Every transaction that may write takes the write lock up front: no upgrade
        # deadlocks, and ledger appends are serialised (DESIGN: one writer). A read
        # session (``make_read_session_factory``) begins a deferred transaction instead:
        # in WAL mode it neither waits for a writer nor holds one up, and query_only
        # makes any write attempted in it fail at once rather than race.
        state = conn.connection.info  # the pooled DBAPI connection's, kept across checkouts
        read_only = bool(conn.get_execution_options().get(READ_ONLY))
        if state.get(READ_ONLY, False) != read_only:
            conn.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
            state[READ_ONLY] = read_only
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "oversight_read_only"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only (SQLite: deferred and query-only, see ``_on_begin``;
    PostgreSQL: read-only transactions).

    Many concurrent readers (the web console and API) then never queue on the write
    lock, whose busy-wait sleeps for milliseconds at a time.
    """
    options: dict[str, object] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        # SET TRANSACTION READ ONLY per connection checkout; SQLAlchemy resets it when
        # the connection goes back to the pool.
        options["postgresql_readonly"] = True
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False)
