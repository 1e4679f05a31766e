"""``oversight audit log``: the register of recordings and accesses (Art. 14(3))."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    open_system,
    parse_instant,
    print_json,
    print_table,
    require_login,
)
from oversight.errors import InvalidInput
from oversight.services import audit as svc
from oversight.services.csv_cells import spreadsheet_cell

audit = typer.Typer(help="The register of recordings and accesses.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit, name="audit")


@audit.command("log")
def log(
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Only this user id.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From (ISO 8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To (ISO 8601).")] = None,
    action: Annotated[
        str | None,
        typer.Option(
            "--action",
            help="Only this action or family: " + ", ".join(svc.FAMILIES) + " (or view.probe).",
        ),
    ] = None,
    request: Annotated[
        int | None,
        typer.Option("--request", min=1, max=svc.MAX_REQUEST, help="Only entries of request N."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the newest N matching entries.")
    ] = None,
    before: Annotated[
        int | None,
        typer.Option("--before", help="Only entries below this leaf index (an older page)."),
    ] = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Every recording, viewing, copy and retrieval: who, when, purpose, destination."""
    if as_json and as_csv:
        raise InvalidInput("give --json or --csv, not both")
    with open_system(data_dir) as system:
        require_login(system, "audit.read")
        since = parse_instant(start, "--from") if start else None
        until = parse_instant(end, "--to") if end else None
        older = None
        if limit is None and before is None:
            entries = svc.log(
                system,
                acting(system),
                camera=camera,
                person=person,
                start=since,
                end=until,
                action=action,
                request=request,
            )
        else:
            found = svc.page(
                system,
                acting(system),
                limit=svc.MAX_PAGE if limit is None else limit,
                before=before,
                camera=camera,
                person=person,
                start=since,
                end=until,
                action=action,
                request=request,
            )
            entries, older = found.entries, found.older
    rows = [e.to_json() for e in entries]
    if as_json:
        print_json(rows)
        return
    columns = ["leaf_index", "at", "action", "actors", "cameras", "target", "purpose"]
    columns += ["destination", "grant", "request"]
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow([*columns, "details"])
        for r in rows:  # defused like the API's and console's downloads (finding 11)
            details = json.dumps(r["details"], ensure_ascii=False, sort_keys=True)
            writer.writerow([spreadsheet_cell(v) for v in (*(r[c] for c in columns), details)])
        return
    print_table(
        "Register",
        columns,
        [
            [", ".join(v) if isinstance(v, list) else v for v in (r[c] for c in columns)]
            for r in rows
        ],
    )
    if older is not None:
        typer.echo(f"older entries: add --before {older}", err=True)
