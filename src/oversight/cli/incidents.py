"""``oversight incidents``: reports of suspicious public-security information to the
police (Art. 14(4)); their footage is marked important (2 years)."""

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
    parse_instant,
    print_json,
    print_table,
    require_login,
)
from oversight.errors import InvalidInput
from oversight.services import incidents as svc
from oversight.services.limits import MAX_ID

incidents = typer.Typer(
    help="Incident reports to the police: report, list, show, print.", no_args_is_help=True
)

IncidentArg = Annotated[int, typer.Argument(help="Incident report id.", min=1, max=MAX_ID)]


def register(app: typer.Typer) -> None:
    app.add_typer(incidents, name="incidents")


@incidents.command("report")
def report(
    cameras: Annotated[str, typer.Option("--cameras", help="Camera ids, comma-separated.")],
    start: Annotated[str, typer.Option("--from", help="Start (ISO 8601 with a time zone).")],
    end: Annotated[str, typer.Option("--to", help="End (ISO 8601 with a time zone).")],
    description: Annotated[str, typer.Option("--description", help="What was observed.")],
    category: Annotated[
        str, typer.Option("--category", help=" | ".join(svc.CATEGORIES) + ".")
    ] = "suspicious_information",
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Report suspicious public-security information (operator or admin; logged in):
    marks the footage important and prints the report's id."""
    with open_system(data_dir) as system:
        actor = require_login(system, "incidents.report")
        rec = svc.report_incident(
            system,
            actor,
            cameras=cameras.split(","),
            start=parse_instant(start, "--from"),
            end=parse_instant(end, "--to"),
            description=description,
            category=category,
        )
    if as_json:
        print_json(rec.to_json())
    else:
        typer.echo(rec.id)


@incidents.command("list")
def list_(
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List incident reports, newest first (logged in)."""
    with open_system(data_dir) as system:
        require_login(system, "incidents.read")
        recs = svc.list_incidents(system, acting(system), camera=camera)
    if as_json:
        print_json([r.to_json() for r in recs])
        return
    print_table(
        "Incident reports",
        ["id", "category", "cameras", "from", "to", "reported by", "description"],
        [
            (
                r.id,
                r.category,
                ",".join(r.cameras),
                r.start.isoformat(),
                r.end.isoformat(),
                r.reported_by,
                r.description,
            )
            for r in recs
        ],
    )


@incidents.command("show")
def show(incident_id: IncidentArg, data_dir: DataDirOption = None) -> None:
    """Show one report as JSON (logged in)."""
    with open_system(data_dir) as system:
        require_login(system, "incidents.read")
        print_json(svc.get_incident(system, acting(system), incident_id).to_json())


@incidents.command("print")
def print_(
    incident_id: IncidentArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the HTML here (default: stdout).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """The printable report for the police (HTML): article, description, footage by
    hash and how to obtain the evidence package (logged in)."""
    with open_system(data_dir) as system:
        require_login(system, "incidents.read")
        html = svc.render_report(system, acting(system), incident_id)
    if out is None:
        typer.echo(html)
        return
    try:
        with out.open("x", encoding="utf-8") as fh:
            fh.write(html)
    except FileExistsError:
        raise InvalidInput(f"--out: {out} exists already") from None
    except OSError as exc:
        raise InvalidInput(f"--out: cannot write {out}: {exc.strerror}") from None
    console.print(f"Wrote {out}.")
