"""Shared CLI plumbing: options every command takes, date parsing, JSON and table output.

User text (purposes, names, reasons, stream URLs) is never read as rich markup or emoji
codes: a ``[/]`` in a purpose once crashed ``audit log`` and ``[link=...]`` planted hidden
links (finding 8 of issue 18). So both consoles have markup and emoji off, and every
table cell is a plain ``Text``; the CLI's own styling is built from styled ``Text``
(:func:`print_field`), never from markup strings.
"""

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
from rich.text import Text

from oversight import bootstrap
from oversight.clock import day_in_range, instant_in_range
from oversight.config import Settings
from oversight.domain import policy
from oversight.domain.people import AuthenticationError, Person, require_role
from oversight.errors import ConfigError, InvalidInput
from oversight.services import auth

console = Console(markup=False, emoji=False)
err_console = Console(stderr=True, markup=False, emoji=False)


def plain_console(width: int) -> Console:
    """A console of a fixed width (output piped to a file), as safe as :data:`console`."""
    return Console(width=width, markup=False, emoji=False)


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
def open_system(data_dir: Path | None, *, login: bool = True) -> Iterator[bootstrap.System]:
    """The System for one command. A session token (OVERSIGHT_TOKEN or the token file) is
    checked first: a doubtful token fails the command. ``login=False`` ignores any token
    (login, logout). Who acts is :func:`acting`'s answer, passed to each service."""
    system = bootstrap.build(settings_for(data_dir))
    try:
        token = read_token(system.settings) if login else None
        if token is not None:
            auth.resolve(system, token)
        yield system
    finally:
        system.close()


def cli_actor() -> str:
    """The OS user (or OVERSIGHT_ACTOR) behind a command run without a login."""
    return os.environ.get("OVERSIGHT_ACTOR") or getpass.getuser()


def acting(system: bootstrap.System) -> Person:
    """Who acts in this command: the logged-in person, or, without a login, the host
    principal (``domain.policy.host``): the OS account that owns the data directory,
    which the policy lets keep the registry and run operations, never handle footage,
    decide access, read the register or manage people (those need a login)."""
    token = read_token(system.settings)
    if token is not None:
        return auth.resolve(system, token).person
    return policy.host(cli_actor())


TOKEN_FILE = "session.token"  # noqa: S105 - a file name, not a secret


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def read_token(settings: Settings, *, use_env: bool = True) -> str | None:
    """OVERSIGHT_TOKEN, else DATA_DIR/session.token if it exists (it must be ours, 0600)."""
    env = os.environ.get("OVERSIGHT_TOKEN", "").strip() if use_env else ""
    if env:
        return env
    path = token_path(settings)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the session token {path}: {exc.strerror}") from None
    with os.fdopen(fd, encoding="utf-8", errors="replace") as fh:
        st = os.fstat(fh.fileno())
        if st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise ConfigError(
                f"the session token {path} is not private (mode {st.st_mode & 0o777:o}, "
                "must be 600 and yours): run `oversight logout` and log in again"
            )
        return fh.read().strip() or None


def require_login(system: bootstrap.System, *actions: str) -> Person:
    """The logged-in person, whose roles the policy gives one of ``actions`` (if any);
    fails closed. The service decides on the target."""
    token = read_token(system.settings)
    if token is None:
        raise AuthenticationError("log in first: `oversight login --user ID`")
    person = auth.resolve(system, token).person
    require_role(person, ())
    if actions and not any(policy.may_take(person, a) for a in actions):
        policy.require(person, actions[0])
    return person


def parse_date(value: str, option: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not an ISO 8601 date (YYYY-MM-DD)") from None
    return day_in_range(day, option)


def parse_instant(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{option}: {value!r} needs a time zone (e.g. Z or +08:00)")
    return instant_in_range(parsed, option)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def cell(value: Any) -> Text:
    """A table cell that shows ``value`` literally (None as empty)."""
    return Text("" if value is None else str(value))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=Text(title), title_justify="left")
    for col in columns:
        table.add_column(Text(col))
    for row in rows:
        table.add_row(*[cell(v) for v in row])
    console.print(table)


def print_field(key: str, value: Any) -> None:
    """One ``key: value`` line of a show command, the key in bold, the value literal."""
    console.print(Text.assemble((key, "bold"), ": ", str(value)))
