"""``oversight alarms``: camera alarms (offline, covered, moved, ...), acknowledgement."""

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
from oversight.services import alarms as svc
from oversight.services.limits import MAX_ID

alarms = typer.Typer(
    help="Camera alarms: list, acknowledge, raise or clear by hand.", no_args_is_help=True
)

AlarmArg = Annotated[int, typer.Argument(help="Alarm id.", min=1, max=MAX_ID)]
CameraOpt = Annotated[str, typer.Option("--camera", help="Camera id.")]
KindOpt = Annotated[str, typer.Option("--kind", help=" | ".join(svc.KINDS) + ".")]


def register(app: typer.Typer) -> None:
    app.add_typer(alarms, name="alarms")


def _ack(rec: svc.AlarmRec) -> str:
    return f"{rec.acked_by} {rec.acked_at:%Y-%m-%d %H:%M}" if rec.acked_by and rec.acked_at else ""


@alarms.command("list")
def list_alarms(
    open_only: Annotated[bool, typer.Option("--open", help="Only alarms still open.")] = False,
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List alarms, newest first."""
    with open_system(data_dir) as system:
        recs = svc.list_alarms(system, acting(system), open_only=open_only, camera=camera)
    if as_json:
        print_json([r.to_json() for r in recs])
        return
    print_table(
        "Alarms",
        ["id", "camera", "kind", "state", "since", "until", "seen", "acknowledged", "detail"],
        [
            (
                r.id,
                r.camera,
                r.kind,
                "open" if r.is_open else "closed",
                r.started_at.isoformat(timespec="seconds"),
                r.ended_at.isoformat(timespec="seconds") if r.ended_at else "",
                r.seen,
                _ack(r),
                r.detail,
            )
            for r in recs
        ],
    )


@alarms.command("show")
def show(alarm_id: AlarmArg, data_dir: DataDirOption = None) -> None:
    """Show one alarm as JSON."""
    with open_system(data_dir) as system:
        print_json(svc.get_alarm(system, acting(system), alarm_id).to_json())


@alarms.command("ack")
def ack(
    alarm_id: AlarmArg,
    note: Annotated[str, typer.Option("--note", help="What was done or decided.")] = "",
    data_dir: DataDirOption = None,
) -> None:
    """Acknowledge an alarm (operator, custodian or admin; logged in). It stays open
    until the camera recovers or it is cleared."""
    with open_system(data_dir) as system:
        actor = require_login(system, "alarms.ack")
        svc.acknowledge(system, actor, alarm_id, note)
    console.print(f"Acknowledged alarm {alarm_id}.")


@alarms.command("raise")
def raise_(
    camera: CameraOpt,
    kind: KindOpt,
    detail: Annotated[str, typer.Option("--detail", help="What was seen.")],
    data_dir: DataDirOption = None,
) -> None:
    """Raise an alarm by hand (logged in), e.g. a guard finds a camera covered; prints
    its id (an open alarm of the same camera and kind is reused)."""
    with open_system(data_dir) as system:
        require_login(system, "alarms.raise")
        rec = svc.raise_alarm(system, camera=camera, kind=kind, detail=detail)
    svc.wait_for_deliveries()
    typer.echo(rec.id)


@alarms.command("clear")
def clear(camera: CameraOpt, kind: KindOpt, data_dir: DataDirOption = None) -> None:
    """Close the open alarm of a camera and kind (logged in)."""
    with open_system(data_dir) as system:
        require_login(system, "alarms.raise")
        rec = svc.clear_alarm(system, camera=camera, kind=kind)
    svc.wait_for_deliveries()
    if rec is None:
        console.print(f"No open {kind} alarm for camera {camera}.")
    else:
        console.print(f"Cleared alarm {rec.id}.")
