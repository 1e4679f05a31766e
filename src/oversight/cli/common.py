"""Shared CLI plumbing: options every command takes, date parsing, JSON and table output."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from oversight import bootstrap
from oversight.config import Settings
from oversight.errors import ConfigError, InvalidInput

console = Console()
err_console = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (default: $OVERSIGHT_DATA_DIR or ./var).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


# Set by the root callback from ``oversight --data-dir DIR <command>``.
ROOT_DATA_DIR: ContextVar[Path | None] = ContextVar("ROOT_DATA_DIR", default=None)


def settings_for(data_dir: Path | None) -> Settings:
    chosen = data_dir or ROOT_DATA_DIR.get()
    try:
        return Settings(data_dir=chosen) if chosen is not None else Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting OVERSIGHT_{field.upper()}: {first['msg']}") from exc


@contextmanager
def open_system(data_dir: Path | None) -> Iterator[bootstrap.System]:
    system = bootstrap.build(settings_for(data_dir))
    system.actor = cli_actor()
    try:
        yield system
    finally:
        system.close()


def cli_actor() -> str:
    """Who acts, as recorded in ledger leaves: the OS user, or OVERSIGHT_ACTOR.

    Interim: until people sign in (``oversight login``), the CLI trusts the account
    that runs it, like git's author; the two-person rules compare these names.
    """
    return os.environ.get("OVERSIGHT_ACTOR") or getpass.getuser()


def parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def parse_instant(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{option}: {value!r} needs a time zone (e.g. Z or +08:00)")
    return parsed


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
