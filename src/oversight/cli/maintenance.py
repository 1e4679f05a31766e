"""``oversight maintenance``: inspection schedules and records, emergency procedures,
repairs (Art. 14(1))."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    console,
    open_system,
    parse_date,
    print_json,
    print_table,
    require_login,
)
from oversight.errors import InvalidInput
from oversight.services import maintenance as svc

maintenance = typer.Typer(
    help="Maintenance: inspection schedules, inspections, emergency procedures, repairs.",
    no_args_is_help=True,
)

SiteOpt = Annotated[str | None, typer.Option("--site", help="Site id.")]
CameraOpt = Annotated[str | None, typer.Option("--camera", help="Camera id.")]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Local date, YYYY-MM-DD (default: today).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(maintenance, name="maintenance")


def _read(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{option}: cannot read {path}: {exc.strerror}") from None


@maintenance.command("schedule")
def schedule(
    every: Annotated[int, typer.Option("--every", help="Interval in days.")],
    site: SiteOpt = None,
    camera: CameraOpt = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Count from this date (default: today).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Inspect a site (or one camera) every N days; replaces its schedule (operator or
    admin; logged in)."""
    starts = parse_date(start, "--from") if start else None
    with open_system(data_dir) as system:
        actor = require_login(system, "maintenance.write")
        rec = svc.set_schedule(
            system, actor, site=site, camera=camera, interval_days=every, starts_on=starts
        )
    console.print(f"{rec.scope}: inspection every {rec.interval_days} days from {rec.starts_on}.")


@maintenance.command("inspect")
def inspect(
    result: Annotated[str, typer.Option("--result", help="ok | defects | failed.")],
    site: SiteOpt = None,
    camera: CameraOpt = None,
    notes: Annotated[
        str, typer.Option("--notes", help="Findings (required unless the result is ok).")
    ] = "",
    day: DateOpt = None,
    data_dir: DataDirOption = None,
) -> None:
    """Record an inspection you did of a site or a camera (operator or admin; logged in);
    prints its id."""
    on = parse_date(day, "--date") if day else None
    with open_system(data_dir) as system:
        actor = require_login(system, "maintenance.write")
        rec = svc.record_inspection(
            system, actor, site=site, camera=camera, on=on, result=result, notes=notes
        )
    typer.echo(rec.id)


@maintenance.command("procedure")
def procedure(
    site: Annotated[str, typer.Option("--site", help="Site id.")],
    title: Annotated[str, typer.Option("--title", help="Title of the procedure.")],
    text: Annotated[str | None, typer.Option("--text", help="The procedure's text.")] = None,
    text_file: Annotated[
        Path | None, typer.Option("--text-file", help="Read the text from a UTF-8 file.")
    ] = None,
    document: Annotated[
        Path | None, typer.Option("--document", help="The signed document (PDF, scan, ...).")
    ] = None,
    adopted: Annotated[
        str | None, typer.Option("--adopted", help="Date adopted (default: today).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Put a site's emergency-handling procedure on file (operator or admin; logged in);
    prints its id."""
    if text is not None and text_file is not None:
        raise InvalidInput("give --text or --text-file, not both")
    if text_file is not None:
        try:
            text = _read(text_file, "--text-file").decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"--text-file: {text_file} is not UTF-8 text") from None
    data = _read(document, "--document") if document is not None else None
    on = parse_date(adopted, "--adopted") if adopted else None
    with open_system(data_dir) as system:
        actor = require_login(system, "maintenance.write")
        rec = svc.add_procedure(
            system,
            actor,
            site=site,
            title=title,
            text=text,
            document=data,
            filename=document.name if document is not None else None,
            adopted_on=on,
        )
    typer.echo(rec.id)


@maintenance.command("repair")
def repair(
    camera: Annotated[str, typer.Option("--camera", help="Camera id.")],
    description: Annotated[str, typer.Option("--description", help="What was repaired.")],
    alarm: Annotated[
        int | None, typer.Option("--alarm", help="The alarm this repair answers.")
    ] = None,
    day: DateOpt = None,
    data_dir: DataDirOption = None,
) -> None:
    """Record a repair of a camera (operator or admin; logged in); prints its id."""
    on = parse_date(day, "--date") if day else None
    with open_system(data_dir) as system:
        actor = require_login(system, "maintenance.write")
        rec = svc.record_repair(
            system, actor, camera=camera, description=description, on=on, alarm_id=alarm
        )
    typer.echo(rec.id)


@maintenance.command("list")
def list_(
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Schedules with their next due date, inspections, procedures and repairs."""
    with open_system(data_dir) as system:
        rec = svc.overview(system, site=site)
    if as_json:
        print_json(rec.to_json())
        return
    print_table(
        "Inspection schedules",
        ["scope", "every (days)", "next due", "last inspected"],
        [
            (d.schedule.scope, d.schedule.interval_days, d.due, d.last.on if d.last else "")
            for d in rec.due
        ],
    )
    print_table(
        "Inspections",
        ["id", "date", "site", "camera", "inspector", "result", "notes"],
        [(i.id, i.on, i.site, i.camera, i.inspector, i.result, i.notes) for i in rec.inspections],
    )
    print_table(
        "Emergency procedures",
        ["id", "site", "title", "adopted", "document sha256"],
        [(p.id, p.site, p.title, p.adopted_on, p.document_sha256) for p in rec.procedures],
    )
    print_table(
        "Repairs",
        ["id", "date", "camera", "alarm", "description"],
        [(r.id, r.on, r.camera, r.alarm_id, r.description) for r in rec.repairs],
    )
