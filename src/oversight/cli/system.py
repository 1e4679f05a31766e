"""``oversight init``: create or upgrade the schema; idempotent."""

from __future__ import annotations

import typer

from oversight import bootstrap
from oversight.cli.common import DataDirOption, console, settings_for
from oversight.db import migrate
from oversight.ledger import keys


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(data_dir: DataDirOption = None) -> None:
    """Create the data directory and database schema, or upgrade them (safe to repeat)."""
    settings = settings_for(data_dir)
    system = bootstrap.build(settings, require_schema=False)
    try:
        before = migrate.current_revision(system.engine)
        migrate.upgrade(system.engine)
        after = migrate.current_revision(system.engine)
    finally:
        system.close()
    created = keys.ensure_key(settings.keys_dir, settings.ledger_origin)
    where = (settings.database_url and "the configured database") or str(settings.data_dir)
    if before == after:
        console.print(f"Oversight data in {where} is up to date (schema {after}).")
    else:
        console.print(f"Initialised Oversight data in {where} (schema {before or '-'} -> {after}).")
    state = "Created" if created else "Kept"
    console.print(f"{state} the ledger signing key {keys.key_path(settings.keys_dir)}.")
    console.print(f"Ledger verifier key: {keys.verifier_key(settings.keys_dir)}")
