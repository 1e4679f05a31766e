"""``oversight training``: training records that the packs' training rules require."""

from __future__ import annotations

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
    require_login,
)
from oversight.services import people as svc

training = typer.Typer(
    help="Training of monitoring and management staff (job skills, confidentiality).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(training, name="training")


@training.command("record")
def record(
    user: Annotated[str, typer.Option("--user", help="User id.")],
    trained_on: Annotated[str, typer.Option("--date", help="Day of the training (YYYY-MM-DD).")],
    valid_until: Annotated[
        str, typer.Option("--valid-until", help="Last day it counts (YYYY-MM-DD).")
    ],
    topics: Annotated[
        str,
        typer.Option("--topics", help="Comma-separated topics, e.g. skills,confidentiality."),
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Record a training (admins only)."""
    day = parse_date(trained_on, "--date")
    until = parse_date(valid_until, "--valid-until")
    with open_system(data_dir) as system:
        actor = require_login(system)
        row = svc.record_training(
            system,
            actor,
            user_id=user,
            trained_on=day,
            valid_until=until,
            topics=topics.split(","),
        )
    console.print(
        f"Training {row.id}: {user} trained on {day} in {', '.join(row.topics)}, "
        f"valid until {until}."
    )


@training.command("list")
def list_training(
    user: Annotated[str | None, typer.Option("--user", help="Only this user.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List training records (admins and auditors)."""
    with open_system(data_dir) as system:
        require_login(system, "people.read")
        items = svc.list_training(system, acting(system), user)
        today = system.packs.local_date(system.clock.now())
    rows = [
        {
            "id": t.id,
            "user": t.user_id,
            "date": t.trained_on.isoformat(),
            "valid_until": t.valid_until.isoformat(),
            "topics": list(t.topics),
            "valid_today": t.valid_on(today),
            "recorded_by": t.recorded_by,
        }
        for t in items
    ]
    if as_json:
        print_json(rows)
        return
    print_table(
        "Training",
        ["id", "user", "date", "valid until", "topics", "valid today", "recorded by"],
        [
            (
                r["id"],
                r["user"],
                r["date"],
                r["valid_until"],
                ", ".join(t.topics),
                "yes" if r["valid_today"] else "no",
                r["recorded_by"],
            )
            for r, t in zip(rows, items, strict=True)
        ],
    )
