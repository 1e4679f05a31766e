"""``oversight compliance report``: every finding with article, deadline and penalty."""

from __future__ import annotations

from typing import Annotated

import typer

from oversight.cli.common import DataDirOption, console, open_system, parse_date, print_json
from oversight.errors import InvalidInput
from oversight.services import compliance as svc
from oversight.services import reports

compliance = typer.Typer(help="Compliance findings from the rule packs.", no_args_is_help=True)

FORMATS = ("text", "json", "html")


def register(app: typer.Typer) -> None:
    app.add_typer(compliance, name="compliance")


@compliance.command("report")
def report(
    at: Annotated[
        str | None, typer.Option("--at", help="Judge as of this date (default: today).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text | json | html")] = "text",
    data_dir: DataDirOption = None,
) -> None:
    """Evaluate the registry against the rule packs and print the findings."""
    if fmt not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}")
    day = parse_date(at, "--at") if at else None
    with open_system(data_dir) as system:
        result = svc.report(system, day)
    if fmt == "json":
        print_json(result.to_json())
    elif fmt == "html":
        typer.echo(reports.compliance_html(result))
    else:
        reports.print_compliance(console, result)
