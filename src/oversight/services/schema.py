"""Creating or upgrading the database schema (``oversight init``), through Alembic."""

from __future__ import annotations

from dataclasses import dataclass

from oversight.bootstrap import System
from oversight.db import migrate
from oversight.services import credentials


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # the schema revision found (None: no schema yet)
    after: str | None  # the revision now: the latest migration's


def upgrade(system: System) -> Upgrade:
    """Apply every migration the database lacks (none: nothing changes); idempotent."""
    before = migrate.current_revision(system.engine)
    keys_dir = system.settings.keys_dir
    # The credentials migration (0016) seals what it takes out of stored stream URLs.
    migrate.upgrade(
        system.engine, {"seal_credentials": lambda found: credentials.seal(keys_dir, found)}
    )
    return Upgrade(before, migrate.current_revision(system.engine))
