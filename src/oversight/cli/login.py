"""``oversight login|logout|whoami``: CLI sessions, and reading secrets safely.

The session token goes to DATA_DIR/session.token (mode 0600, in a directory that only
its owner may write) or, with ``--print``, to standard output for OVERSIGHT_TOKEN.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    console,
    err_console,
    open_system,
    print_field,
    print_json,
    read_token,
    token_path,
)
from oversight.config import Settings
from oversight.domain.people import AuthenticationError, Person, latest_training
from oversight.errors import ConfigError, InvalidInput
from oversight.services import auth

PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)


def read_secret(from_stdin: bool, prompt: str, *, confirm: bool = False) -> str:
    """A password from stdin's first line, or prompted without echo when not given."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise InvalidInput("no password on standard input")
        return value
    value = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return str(value)


def check_token_dir(settings: Settings) -> Path:
    """The data directory must exist, be ours, and be writable by nobody else."""
    directory = settings.data_dir
    try:
        st = directory.stat()
    except FileNotFoundError:
        raise ConfigError(
            f"data directory {directory} does not exist: run `oversight init`"
        ) from None
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{directory} is not a directory")
    if st.st_uid != os.geteuid():
        raise ConfigError(f"{directory} belongs to another user: no session token written there")
    if st.st_mode & 0o022:
        raise ConfigError(
            f"{directory} is writable by other users (mode {st.st_mode & 0o777:o}): "
            "run `chmod go-w` on it first, or use `oversight login --print`"
        )
    return directory


def write_token(settings: Settings, token: str) -> Path:
    directory = check_token_dir(settings)
    path = token_path(settings)
    tmp = directory / f".{path.name}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (token + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def login(
    user: Annotated[str, typer.Option("--user", help="User id.")],
    password_stdin: PasswordStdinOption = False,
    print_token: Annotated[
        bool,
        typer.Option("--print", help="Print the token (for OVERSIGHT_TOKEN) instead of saving it."),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Log in: later commands act as this user for 8 hours (or until `oversight logout`)."""
    password = read_secret(password_stdin, "Password")
    with open_system(data_dir, login=False) as system:
        if not print_token:
            check_token_dir(system.settings)  # before a session exists
        token, session = auth.login(system, user, password)
        until = session.expires_at.isoformat(timespec="seconds")
        if print_token:
            typer.echo(token)
            err_console.print(f"Logged in as {user} until {until}.")
            return
        path = write_token(system.settings, token)
    console.print(f"Logged in as {user} until {until} (session in {path}).")


def logout(data_dir: DataDirOption = None) -> None:
    """End the session: revoke its token and delete the token file."""
    ended: list[str] = []
    with open_system(data_dir, login=False) as system:
        path = token_path(system.settings)
        tokens = [os.environ.get("OVERSIGHT_TOKEN", "").strip()]
        with contextlib.suppress(ConfigError):  # an unsafe file is removed all the same
            tokens.append(read_token(system.settings, use_env=False) or "")
        for token in filter(None, tokens):
            user = auth.logout(system, token)
            if user is not None:
                ended.append(user)
    if path.exists() or path.is_symlink():
        path.unlink()
    console.print(f"Logged out {', '.join(ended)}." if ended else "No session was open.")
    if os.environ.get("OVERSIGHT_TOKEN"):
        err_console.print("OVERSIGHT_TOKEN is still set in your environment: unset it.")


def person_json(person: Person) -> dict[str, object]:
    last = latest_training(person.trainings)
    return {
        "id": person.id,
        "name": person.name,
        "roles": list(person.roles),
        "sites": list(person.sites),
        "id_doc": person.masked_id_doc,
        "disabled": person.disabled,
        "training_valid_until": last.valid_until.isoformat() if last else None,
    }


def whoami(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Show who is logged in, with roles and when the session ends."""
    with open_system(data_dir, login=False) as system:
        token = read_token(system.settings)
        if token is None:
            raise AuthenticationError("not logged in: `oversight login --user ID`")
        session = auth.resolve(system, token)
    data = person_json(session.person) | {
        "expires_at": session.expires_at.isoformat(timespec="seconds")
    }
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        print_field(key, shown if shown not in (None, "") else "-")
