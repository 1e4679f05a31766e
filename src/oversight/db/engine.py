"""Engine and session factory for SQLite (embedded) and PostgreSQL (at scale)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


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
