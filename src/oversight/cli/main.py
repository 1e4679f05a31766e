"""The ``oversight`` command: one sub-app per noun, errors mapped to one line in one place."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from oversight.cli.common import ROOT_DATA_DIR
from oversight.errors import OversightError


class _OversightGroup(TyperGroup):
    """Maps every OversightError to one line on stderr and its exit code (2 by default)."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context
        try:
            return super().invoke(ctx)
        except OversightError as exc:
            if (ctx.obj or {}).get("debug"):
                raise
            typer.echo(f"error: {exc.message}", err=True)
            ctx.exit(exc.exit_code)


app = typer.Typer(
    cls=_OversightGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Oversight: accountable custody of public-security CCTV footage.",
)


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory (default: $OVERSIGHT_DATA_DIR or ./var)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    ctx.obj = {"data_dir": data_dir, "debug": debug}
    ROOT_DATA_DIR.set(data_dir)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING)


def _register() -> None:
    # Imported here so that each noun stays in its own module.
    from oversight.cli import compliance, filing, ledger, registry, rules, system, verify

    system.register(app)
    rules.register(app)
    registry.register(app)
    filing.register(app)
    compliance.register(app)
    ledger.register(app)
    verify.register(app)
    # recorder commands: registered below by the recorder module
    from oversight.cli import recording

    recording.register(app)
    from oversight.cli import nodes

    nodes.register(app)
    from oversight.cli import retention

    retention.register(app)
    from oversight.cli import capacity

    capacity.register(app)
    from oversight.cli import simulate

    simulate.register(app)
    from oversight.cli import evidence

    evidence.register(app)
    from oversight.cli import login, training, users

    users.register(app)
    training.register(app)
    login.register(app)
    from oversight.cli import access, audit, export

    access.register(app)
    export.register(app)
    audit.register(app)
    from oversight.cli import serve

    serve.register(app)
    from oversight.cli import alarms, incidents, maintenance

    alarms.register(app)
    maintenance.register(app)
    incidents.register(app)
    from oversight.cli import health

    health.register(app)
    from oversight.cli import witness

    witness.register(app)


_register()


def main() -> None:
    app(prog_name="oversight")


if __name__ == "__main__":  # pragma: no cover
    main()
