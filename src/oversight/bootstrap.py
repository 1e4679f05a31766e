"""Wiring in one place: build the database, rule packs, ledger, store and clock from Settings.

Nothing else in Oversight creates engines, reads the environment or loads packs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from oversight.clock import Clock, SystemClock
from oversight.config import Settings
from oversight.db import migrate
from oversight.db.engine import make_engine, make_read_session_factory, make_session_factory
from oversight.errors import ConfigError
from oversight.ledger import keys
from oversight.ledger.log import Ledger
from oversight.rules.layering import PackSet
from oversight.rules.loader import load_packs
from oversight.storage.base import Store
from oversight.storage.local import LocalStore, make_private_dirs
from oversight.storage.s3 import S3Store, make_client


@dataclass(frozen=True)
class System:
    """Everything a service needs, built once per process (CLI run or API app).

    Immutable and shared: who acts is never stored here but passed to each service
    call (``domain/policy.py``), so concurrent requests cannot name each other."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # Read-only sessions: never wait for or block a writer (see db/engine.py).
    reads: sessionmaker[Session]
    packs: PackSet
    ledger: Ledger
    store: Store
    clock: Clock = field(default_factory=SystemClock)

    def close(self) -> None:
        self.engine.dispose()
        self.store.close()


# Everything a command writes (database, spool, quarantine, documents, exports) is
# private to the account that runs Oversight (finding 5 of issue 18).
PRIVATE_UMASK = 0o077


def build(settings: Settings, *, clock: Clock | None = None, require_schema: bool = True) -> System:
    os.umask(PRIVATE_UMASK)
    packs = PackSet(load_packs(settings.pack_ids))
    if settings.database_url is None:
        make_private_dirs(settings.data_dir)  # 0700 if we make it; an existing one is checked
    engine = make_engine(settings.effective_database_url)
    clock = clock or SystemClock()
    # The signing key is read on the first append, so read-only commands work without it.
    ledger = Ledger(settings.ledger_origin, keys.SignerCache(settings.keys_dir), clock.now)
    try:
        store = build_store(settings)
    except BaseException:
        engine.dispose()
        raise
    system = System(
        settings,
        engine,
        make_session_factory(engine),
        make_read_session_factory(engine),
        packs,
        ledger,
        store,
        clock,
    )
    if require_schema:
        _check_schema(system)
    return system


def build_store(settings: Settings) -> Store:
    """The local store in DATA_DIR/store, or the S3 bucket OVERSIGHT_STORE names (checked)."""
    location = settings.s3_location
    if location is None:
        return LocalStore(settings.store_dir)
    bucket, prefix = location
    secret = settings.s3_secret_access_key
    client = make_client(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret is not None else None,
    )
    days = settings.s3_default_retention_days
    return S3Store(
        bucket,
        prefix,
        client,
        # Object Lock is judged by the server's wall clock, not by a test or replay clock.
        default_retention=timedelta(days=days) if days else None,
    )


def _check_schema(system: System) -> None:
    try:
        current = migrate.current_revision(system.engine)
    except SQLAlchemyError as exc:
        system.close()
        # The message may carry the URL; name only the failure, never credentials.
        reason = type(getattr(exc, "orig", None) or exc).__name__
        raise ConfigError(
            f"cannot open the database ({reason}): check OVERSIGHT_DATABASE_URL"
        ) from exc
    if current != migrate.head_revision(system.engine):
        system.close()
        raise ConfigError("the database is not initialised or is out of date: run `oversight init`")
