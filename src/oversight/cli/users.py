"""``oversight users``: accounts, roles and passwords (admins; a user's own password)."""

from __future__ import annotations

from typing import Annotated

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    console,
    open_system,
    print_json,
    print_table,
    require_login,
)
from oversight.cli.login import PasswordStdinOption, person_json, read_secret
from oversight.services import people as svc

users = typer.Typer(
    help="People: accounts, roles (admin, operator, custodian, auditor, requester), passwords.",
    no_args_is_help=True,
)

UserArg = Annotated[str, typer.Argument(help="User id.")]
RoleOption = Annotated[
    str, typer.Option("--role", help="admin | operator | custodian | auditor | requester.")
]
# Who may see the list of people (names, roles, masked identity documents).


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")


@users.command("add")
def add(
    user_id: Annotated[str, typer.Option("--id", help="Stable user id, e.g. zhang.wei.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    id_doc: Annotated[
        str, typer.Option("--id-doc", help="Identity-document number (shown masked only).")
    ],
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="Role (repeatable). Operator, custodian and admin need valid training first "
            "(add without, `training record`, then `users grant`).",
        ),
    ] = None,
    site: Annotated[
        list[str] | None,
        typer.Option("--site", help="Limit to this site (repeatable; default: every site)."),
    ] = None,
    password_stdin: PasswordStdinOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Add a user (admins only)."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        password = read_secret(password_stdin, "Password for the new user", confirm=True)
        person = svc.add_user(
            system,
            actor,
            user_id=user_id,
            name=name,
            roles=role or [],
            sites=site or [],
            id_doc=id_doc,
            password=password,
        )
    console.print(f"Added user {person.id} ({', '.join(person.roles) or 'no role'}).")


@users.command("list")
def list_users(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """List users (admins and auditors); identity documents are masked."""
    with open_system(data_dir) as system:
        require_login(system, "people.read")
        items = svc.list_users(system, acting(system))
    rows = [person_json(p) for p in items]
    if as_json:
        print_json(rows)
        return
    print_table(
        "Users",
        ["id", "name", "roles", "sites", "id doc", "status", "trained until"],
        [
            (
                r["id"],
                r["name"],
                ", ".join(p.roles),
                ", ".join(p.sites) or "all",
                r["id_doc"],
                "disabled" if p.disabled else "active",
                r["training_valid_until"],
            )
            for r, p in zip(rows, items, strict=True)
        ],
    )


@users.command("disable")
def disable(user_id: UserArg, data_dir: DataDirOption = None) -> None:
    """Disable a user (admins only): they cannot log in and their sessions end."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        svc.disable_user(system, actor, user_id)
    console.print(f"Disabled user {user_id}.")


@users.command("passwd")
def passwd(
    user_id: UserArg, password_stdin: PasswordStdinOption = False, data_dir: DataDirOption = None
) -> None:
    """Set a password: your own, or anyone's as an admin. The user's sessions end."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        password = read_secret(password_stdin, "New password", confirm=True)
        ended = svc.set_password(system, actor, user_id, password)
    console.print(f"Password of {user_id} changed; {ended} session(s) ended.")


@users.command("grant")
def grant(user_id: UserArg, role: RoleOption, data_dir: DataDirOption = None) -> None:
    """Give a user a role (admins only, never themselves; training rules apply)."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        person = svc.grant_role(system, actor, user_id, role)
    console.print(f"User {person.id} now has roles {', '.join(person.roles)}.")


@users.command("revoke")
def revoke(user_id: UserArg, role: RoleOption, data_dir: DataDirOption = None) -> None:
    """Take a role from a user (admins only, never themselves)."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        person = svc.revoke_role(system, actor, user_id, role)
    console.print(f"User {person.id} now has roles {', '.join(person.roles) or '-'}.")
