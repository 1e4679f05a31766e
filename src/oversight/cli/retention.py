"""``oversight retention``: keep-for settings, important marks, legal holds, the purge."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    console,
    err_console,
    open_system,
    parse_instant,
    print_json,
    print_table,
)
from oversight.cli.recording import segments as segments_group
from oversight.domain.retention import Decision
from oversight.errors import InvalidInput
from oversight.services import purge
from oversight.services import retention as svc
from oversight.services.limits import MAX_ID

retention = typer.Typer(
    help="Retention: legal minimums, important marks, legal holds and the purge.",
    no_args_is_help=True,
)
certificate = typer.Typer(help="Deletion certificates of purge runs.", no_args_is_help=True)
retention.add_typer(certificate, name="certificate")

CameraOption = Annotated[str, typer.Option("--camera", help="Camera id.")]
FromOption = Annotated[str, typer.Option("--from", help="Start (ISO 8601 with time zone).")]
ToOption = Annotated[str, typer.Option("--to", help="End (ISO 8601 with time zone).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]


def register(app: typer.Typer) -> None:
    app.add_typer(retention, name="retention")


def _range(start: str, end: str) -> tuple[Any, Any]:
    return parse_instant(start, "--from"), parse_instant(end, "--to")


@retention.command("keep")
def keep(
    days: Annotated[int, typer.Option("--days", help="Keep footage this many days.")],
    camera: Annotated[
        str | None, typer.Option("--camera", help="Only this camera (default: all).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Set how long footage is kept; never shorter than the rule pack's minimum."""
    with open_system(data_dir) as system:
        svc.set_keep_for(system, acting(system), days, camera)
    console.print(
        f"Footage of {f'camera {camera}' if camera else 'all cameras'} is kept {days} days."
    )


@retention.command("mark")
def mark(
    camera: CameraOption,
    start: FromOption,
    end: ToOption,
    reason: ReasonOption,
    data_dir: DataDirOption = None,
) -> None:
    """Mark footage important to public security: kept for the 2-year class."""
    begin, finish = _range(start, end)
    with open_system(data_dir) as system:
        row = svc.mark_important(system, acting(system), camera, begin, finish, reason)
    console.print(f"Mark {row.id}: camera {camera} {start} .. {end} is important.")


@retention.command("hold")
def hold(
    camera: CameraOption,
    start: FromOption,
    end: ToOption,
    reason: ReasonOption,
    data_dir: DataDirOption = None,
) -> None:
    """Place a legal hold: nothing it covers is deleted until a second person releases it."""
    begin, finish = _range(start, end)
    with open_system(data_dir) as system:
        row = svc.place_hold(system, acting(system), camera, begin, finish, reason)
    console.print(f"Hold {row.id} placed on camera {camera} {start} .. {end}.")


@retention.command("release")
def release(
    hold_id: Annotated[
        int, typer.Argument(help="Hold id (from `retention list`).", min=1, max=MAX_ID)
    ],
    reason: ReasonOption,
    data_dir: DataDirOption = None,
) -> None:
    """Release a legal hold (by someone other than who placed it)."""
    with open_system(data_dir) as system:
        row = svc.release_hold(system, acting(system), hold_id, reason)
    console.print(f"Hold {row.id} released by {row.released_by}.")


@retention.command("list")
def list_state(json_out: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """List keep-for settings, marks and holds."""
    with open_system(data_dir) as system:
        state = svc.state(system, acting(system))
    data: dict[str, list[dict[str, Any]]] = {
        "keep_for": [
            {"scope": p.scope, "days": p.keep_days, "set_by": p.set_by, "set_at": p.set_at}
            for p in state.policies
        ],
        "marks": [
            {
                "id": r.id,
                "camera": r.camera_id,
                "from": r.start_at,
                "to": r.end_at,
                "reason": r.reason,
                "by": r.marked_by,
            }
            for r in state.marks
        ],
        "holds": [
            {
                "id": r.id,
                "camera": r.camera_id,
                "from": r.start_at,
                "to": r.end_at,
                "reason": r.reason,
                "by": r.placed_by,
                "released_by": r.released_by,
                "released_at": r.released_at,
            }
            for r in state.holds
        ],
    }
    if json_out:
        print_json(data)
        return
    print_table(
        "Keep for",
        ["scope", "days", "set by"],
        [[p["scope"], p["days"], p["set_by"]] for p in data["keep_for"]],
    )
    print_table(
        "Important marks",
        ["id", "camera", "from", "to", "reason", "by"],
        [[r["id"], r["camera"], r["from"], r["to"], r["reason"], r["by"]] for r in data["marks"]],
    )
    print_table(
        "Legal holds",
        ["id", "camera", "from", "to", "reason", "by", "released by"],
        [
            [
                r["id"],
                r["camera"],
                r["from"],
                r["to"],
                r["reason"],
                r["by"],
                r["released_by"] or "-",
            ]
            for r in data["holds"]
        ],
    )


def _decision_json(d: Decision) -> dict[str, Any]:
    return {
        "segment": d.segment.id,
        "camera": d.segment.camera,
        "start": d.segment.start,
        "end": d.segment.end,
        "bytes": d.segment.size,
        "class": d.retention_class,
        "keep_until": d.keep_until,
        "expired": d.expired,
        "held_by": list(d.held_by),
        "marked_by": list(d.marked_by),
        "overdue": d.overdue,
        "basis": d.basis,
    }


@retention.command("plan")
def plan(
    at: Annotated[
        str | None, typer.Option("--at", help="Plan as of this instant (default: now).")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List kept segments too.")] = False,
    json_out: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Show what a purge would delete now (or at --at) and why; deletes nothing."""
    when = parse_instant(at, "--at") if at else None
    with open_system(data_dir) as system:
        result = svc.make_plan(system, when)
    shown = result.decisions if show_all else tuple(result.expired)
    if json_out:
        print_json(
            {
                "at": result.at,
                "segments": len(result.decisions),
                "expired": len(result.expired),
                "expired_bytes": result.expired_bytes,
                "held": len(result.held),
                "decisions": [_decision_json(d) for d in shown],
            }
        )
        return
    print_table(
        f"Retention plan at {result.at.isoformat()}",
        ["segment", "camera", "end", "class", "keep until", "goes", "why"],
        [
            [
                d.segment.id,
                d.segment.camera,
                d.segment.end.isoformat(),
                d.retention_class,
                d.keep_until.isoformat(),
                "yes" if d.expired else "no",
                f"held ({', '.join(map(str, d.held_by))})" if d.held_by else d.basis,
            ]
            for d in shown
        ],
    )
    console.print(
        f"{len(result.expired)} of {len(result.decisions)} segments "
        f"({result.expired_bytes} bytes) would be deleted; {len(result.held)} held."
    )


@retention.command("run")
def run(json_out: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Delete expired, unheld footage: ledger leaf first, then the bytes; writes a certificate."""
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=json_out or not err_console.is_terminal,
    )
    task = bar.add_task("deleting expired segments", total=None)
    with bar, open_system(data_dir) as system:
        result = purge.run(
            system,
            acting(system),
            progress=lambda n, _b: bar.advance(task, n),
            on_total=lambda n, _b: bar.update(task, total=n),
        )
    data = {
        "run": result.run_id,
        "segments": result.segments,
        "bytes": result.bytes,
        "first_leaf": result.first_leaf,
        "last_leaf": result.last_leaf,
        "certificate": str(result.certificate) if result.certificate else None,
        "resumed": result.resumed,
        "documents": result.documents,
    }
    if json_out:
        print_json(data)
        return
    if result.resumed:
        console.print(f"Finished {result.resumed} deletions of an interrupted run.")
    if result.segments:
        console.print(
            f"Purge run {result.run_id}: deleted {result.segments} segments "
            f"({result.bytes} bytes), "
            f"recorded in ledger leaves {result.first_leaf}..{result.last_leaf}; "
            f"certificate {result.certificate}."
        )
    else:
        console.print(f"Purge run {result.run_id}: nothing has expired.")
    if result.documents:
        console.print(
            f"Removed {result.documents} documents of refused or withdrawn access requests "
            "(retention leaves document.deleted)."
        )


@certificate.command("verify")
def verify_certificate(
    file: Annotated[Path, typer.Argument(help="A deletion certificate (purge-NNNNNN.json).")],
    data_dir: DataDirOption = None,
) -> None:
    """Check a deletion certificate against this ledger; exit 1 if it does not hold."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from None
    with open_system(data_dir) as system:
        problems = purge.check_certificate(system, text)
    for problem in problems:
        sys.stdout.write(f"problem: {problem}\n")
    if problems:
        raise typer.Exit(1)
    console.print("OK: every deletion in the certificate is recorded in the ledger.")


@segments_group.command("delete")
def delete_segment(
    segment_id: Annotated[
        int, typer.Argument(help="Segment id (from `segments list`).", min=1, max=MAX_ID)
    ],
    reason: ReasonOption,
    data_dir: DataDirOption = None,
) -> None:
    """Delete one segment by hand: refused within retention (Art. 15(2)); the attempt is logged."""
    with open_system(data_dir) as system:
        purge.delete_segment(system, acting(system), segment_id, reason)
    console.print(f"Deleted segment {segment_id}; the deletion is recorded in the ledger.")
