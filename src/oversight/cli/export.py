"""``oversight export``: a grant executed by two people, written as an evidence package;
``oversight exports list``: the history of packages written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    console,
    err_console,
    open_system,
    print_json,
    print_table,
    require_login,
)
from oversight.cli.login import read_secret
from oversight.errors import InvalidInput
from oversight.services import auth, exports
from oversight.services import export as svc
from oversight.services.limits import MAX_ID

history = typer.Typer(help="The history of evidence packages exported.", no_args_is_help=True)

_PHASES = {
    "cut": "cutting clips",
    "check": "checking the package",
    "zip": "zipping",
    "record": "recording in the ledger",
}


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.add_typer(history, name="exports")


def export(
    grant: Annotated[int, typer.Option("--grant", help="The grant to execute.", min=1, max=MAX_ID)],
    witness: Annotated[str, typer.Option("--witness", help="User id of the second person.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="New directory for the evidence package (else --into)."),
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option(
            "--into",
            help="Existing directory in which the package gets a folder of its distinct "
            "name (grant, cameras, range, export time); default: the current directory.",
        ),
    ] = None,
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
    password); the evidence package verifies with `oversight evidence verify DIR`.

    Without --out the package is a new folder named
    `oversight-grant<N>-<cameras>-<start>-<end>-exported-<time>` (UTC), never the same
    name twice, in --into (default: the current directory). Every export is in
    `oversight exports list`.
    """
    if out is not None and into is not None:
        raise InvalidInput("give --out or --into, not both")
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )

    def progress(phase: str, done: int, total: int) -> None:
        bar.update(task, description=_PHASES.get(phase, phase), completed=done, total=total)

    with open_system(data_dir) as system:
        custodian = require_login(system)
        password = read_secret(witness_password_stdin, f"Password of witness {witness}")
        second = auth.authenticate(system, witness, password)
        task = bar.add_task("handing over the footage", total=None)
        with bar:
            path = svc.export_grant(
                system,
                custodian,
                second,
                grant_id=grant,
                out_dir=out,
                into=None if out is not None else (into or Path.cwd()),
                watermark=watermark,
                progress=progress,
            )
    console.print(f"Wrote the evidence package {path}.")


@history.command("list")
def list_exports(
    grant: Annotated[
        int | None, typer.Option("--grant", help="Only this grant's.", min=1, max=MAX_ID)
    ] = None,
    json_out: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Past exports, newest first: when, the custodian and the witness, grant, request,
    cameras and range, destination, and the SHA-256 of the manifest and the zip. Needs
    audit.read (custodians, auditors, admins), in the reader's site scope."""
    with open_system(data_dir) as system:
        recs = exports.list_exports(system, acting(system), grant_id=grant)
    if json_out:
        print_json([r.to_json() for r in recs])
        return
    print_table(
        "Exports",
        ["when", "name", "custodian", "witness", "grant", "request", "destination", "sha256"],
        [
            (
                r.to_json()["exported_at"],
                r.name + (".zip" if r.form == "zip" else "/"),
                r.custodian,
                r.witness,
                r.grant_id,
                r.request_id,
                r.destination,
                (r.zip_sha256 or r.manifest_sha256)[:16],
            )
            for r in recs
        ],
    )
