"""``oversight init``: create or upgrade the schema; idempotent."""

from __future__ import annotations

from typing import Annotated

import typer

from oversight import bootstrap
from oversight.cli.common import DataDirOption, cli_actor, console, settings_for
from oversight.cli.login import read_secret
from oversight.config import Settings
from oversight.domain import policy
from oversight.domain.people import check_password, check_user_id, normalise_id_doc
from oversight.errors import InvalidInput
from oversight.ledger import keys
from oversight.services import people, schema


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    data_dir: DataDirOption = None,
    admin_id: Annotated[
        str | None,
        typer.Option("--admin-id", help="Create the first admin (only while none exists)."),
    ] = None,
    admin_password_stdin: Annotated[
        bool,
        typer.Option("--admin-password-stdin", help="Read the admin's password from stdin."),
    ] = False,
    admin_name: Annotated[
        str | None, typer.Option("--admin-name", help="The admin's full name (default: the id).")
    ] = None,
    admin_id_doc: Annotated[
        str | None, typer.Option("--admin-id-doc", help="The admin's identity-document number.")
    ] = None,
) -> None:
    """Create the data directory and database schema, or upgrade them (safe to repeat)."""
    settings = settings_for(data_dir)
    if admin_id is None and (admin_password_stdin or admin_name or admin_id_doc):
        raise InvalidInput(
            "--admin-password-stdin, --admin-name and --admin-id-doc need --admin-id"
        )
    password = None
    if admin_id is not None:
        password = read_secret(admin_password_stdin, "Password for the admin", confirm=True)
        check_password(password)
        check_user_id(admin_id)
        if admin_id_doc is not None:
            normalise_id_doc(admin_id_doc)
    system = bootstrap.build(settings, require_schema=False)
    try:
        upgraded = schema.upgrade(system)
    finally:
        system.close()
    before, after = upgraded.before, upgraded.after
    created = keys.ensure_key(settings.keys_dir, settings.ledger_origin)
    where = (settings.database_url and "the configured database") or str(settings.data_dir)
    if before == after:
        console.print(f"Oversight data in {where} is up to date (schema {after}).")
    else:
        console.print(f"Initialised Oversight data in {where} (schema {before or '-'} -> {after}).")
    state = "Created" if created else "Kept"
    console.print(f"{state} the ledger signing key {keys.key_path(settings.keys_dir)}.")
    console.print(f"Ledger verifier key: {keys.verifier_key(settings.keys_dir)}")
    if admin_id is not None and password is not None:
        _first_admin(settings, admin_id, admin_name or admin_id, admin_id_doc, password)


def _first_admin(
    settings: Settings, admin_id: str, name: str, id_doc: str | None, password: str
) -> None:
    system = bootstrap.build(settings)
    try:
        people.add_user(
            system,
            policy.host(cli_actor()),
            user_id=admin_id,
            name=name,
            roles=["admin"],
            id_doc=id_doc,
            password=password,
        )
    finally:
        system.close()
    console.print(f"Created the first admin {admin_id}: log in with `oversight login`.")
