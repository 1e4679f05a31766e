"""``oversight filing``: record filings (备案), list what is due, print a filing form."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    console,
    open_system,
    parse_date,
    print_json,
    print_table,
)
from oversight.errors import InvalidInput
from oversight.services import compliance, filing_form
from oversight.services import registry as svc

filing = typer.Typer(help="Filing (备案) of cameras with the police.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(filing, name="filing")


@filing.command("record")
def record(
    camera: Annotated[str, typer.Option("--camera", help="Camera id.")],
    kind: Annotated[str, typer.Option("--kind", help="commissioning | removal")],
    on: Annotated[str, typer.Option("--date", help="Date filed (YYYY-MM-DD).")],
    receipt: Annotated[str, typer.Option("--receipt", help="Receipt number from the police.")],
    police_office: Annotated[
        str | None, typer.Option("--police-office", help="Police office filed with.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Record that a commissioning or removal was filed with the police."""
    day = parse_date(on, "--date")
    with open_system(data_dir) as system:
        rec = svc.record_filing(
            system,
            acting(system),
            camera_id=camera,
            kind=kind,
            filed_on=day,
            receipt=receipt,
            police_office=police_office,
        )
    console.print(f"Recorded {rec.kind} filing of camera {rec.camera_id} (receipt {rec.receipt}).")


@filing.command("due")
def due(
    at: Annotated[
        str | None, typer.Option("--at", help="Judge as of this date (default: today).")
    ] = None,
    include_filed: Annotated[
        bool, typer.Option("--all", help="Also list filings already made.")
    ] = False,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List filings that are due or overdue, earliest deadline first."""
    day = parse_date(at, "--at") if at else None
    with open_system(data_dir) as system:
        when, items = compliance.due_filings(system, day, include_filed=include_filed)
    rows = [
        {
            "camera": o.camera_id,
            "site": o.site_id,
            "kind": o.kind,
            "event_date": o.event_date.isoformat(),
            "due": o.deadline.due.isoformat(),
            "status": o.status,
            "days_left": (o.deadline.due - when).days,
            "filed_on": o.filed_on.isoformat() if o.filed_on else None,
            "rule": o.deadline.cited.rule_id,
            "article": o.deadline.cited.article,
            "pack": o.deadline.cited.pack_id,
        }
        for o in items
    ]
    if as_json:
        print_json({"at": when.isoformat(), "filings": rows})
        return
    print_table(
        f"Filings as of {when}",
        ["camera", "site", "kind", "event", "due", "status", "days left", "article"],
        [
            (
                r["camera"],
                r["site"],
                r["kind"],
                r["event_date"],
                r["due"],
                r["status"],
                r["days_left"],
                f"{r['pack']} {r['article']}",
            )
            for r in rows
        ],
    )


@filing.command("form")
def form(
    site: Annotated[str, typer.Argument(help="Site id.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML form.")],
    data_dir: DataDirOption = None,
) -> None:
    """Write a printable filing form for a site: owner, cameras, placements, installers, dates."""
    if out.exists() and out.is_dir():
        raise InvalidInput(f"--out {out} is a directory")
    with open_system(data_dir) as system:
        html = filing_form.render(system, acting(system), site)
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from None
    console.print(f"Wrote the filing form for site {site} to {out}.")
