"""Read sessions (``System.reads``) on SQLite: they see committed data without waiting
for a writer that holds the write lock, and any write attempted in one fails at once;
ordinary sessions still take the write lock and can write after a read session used the
same pooled connection. On PostgreSQL they are read-only transactions (MVCC never
blocks readers), checked for the same results."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from oversight import bootstrap
from oversight.db import models as m
from oversight.services import registry
from tests.actors import HOST
from tests.conftest import Env


def _org_count(system: bootstrap.System) -> int:
    with system.reads() as session:
        return int(session.scalar(select(func.count()).select_from(m.Organisation)) or 0)


def test_a_read_does_not_wait_for_a_writer_holding_the_lock(
    system: bootstrap.System, env: Env
) -> None:
    env.ok("orgs", "add", "--id", "o1", "--name", "One", "--kind", "owner")
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with system.sessions.begin() as session:  # BEGIN IMMEDIATE on SQLite
            session.execute(select(1))
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert held.wait(10)
        start = time.monotonic()
        assert _org_count(system) == 1
        waited = time.monotonic() - start
    finally:
        release.set()
        thread.join()
    # Functional, not a speed claim: a read queued behind the lock would wait until
    # release (10 s) or the busy timeout (30 s).
    assert waited < 5


def test_a_write_in_a_read_session_fails_and_writes_nothing(system: bootstrap.System) -> None:
    with pytest.raises(DBAPIError, match=r"(?i)read-?only"), system.reads.begin() as session:
        session.add(
            m.Organisation(id="o2", name="Two", kind="owner", created_at=system.clock.now())
        )
        session.flush()
    assert _org_count(system) == 0
    # The same pooled connection serves a write session afterwards.
    registry.add_org(system, HOST, org_id="o3", name="Three", kind="owner")
    assert _org_count(system) == 1
