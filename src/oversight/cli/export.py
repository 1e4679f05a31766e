"""``oversight export``: a grant executed by two people, written as an evidence package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import DataDirOption, console, open_system, require_login
from oversight.cli.login import read_secret
from oversight.services import auth
from oversight.services import export as svc
from oversight.services.limits import MAX_ID


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    grant: Annotated[int, typer.Option("--grant", help="The grant to execute.", min=1, max=MAX_ID)],
    out: Annotated[Path, typer.Option("--out", help="New directory for the evidence package.")],
    witness: Annotated[str, typer.Option("--witness", help="User id of the second person.")],
    witness_password_stdin: Annotated[
        bool,
        typer.Option("--witness-password-stdin", help="Read the witness's password from stdin."),
    ] = False,
    watermark: Annotated[
        bool, typer.Option("--watermark", help="Burn request id and time into the clips.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Export a grant's footage (logged-in custodian plus a witness who enters their own
    password); the evidence package verifies with `oversight evidence verify DIR`."""
    with open_system(data_dir) as system:
        custodian = require_login(system)
        password = read_secret(witness_password_stdin, f"Password of witness {witness}")
        second = auth.authenticate(system, witness, password)
        path = svc.export_grant(
            system, custodian, second, grant_id=grant, out_dir=out, watermark=watermark
        )
    console.print(f"Wrote the evidence package {path}.")
