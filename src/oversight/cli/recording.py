"""``oversight record``, ``segments``, ``gaps`` and ``cameras status``: the recorder."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

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
    settings_for,
)
from oversight.cli.registry import cameras
from oversight.errors import InvalidInput
from oversight.recorder.state import CameraView, RecorderOptions
from oversight.recorder.supervisor import PoolNode, Supervisor
from oversight.services import pool, witnessing
from oversight.services import recording as svc
from oversight.services.filemodes import require_private

segments = typer.Typer(
    help="Sealed footage segments (the index of the ledger).", no_args_is_help=True
)
gaps = typer.Typer(
    help="Recorded gaps: spans with no sealed footage, and why.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("record")(record)
    app.add_typer(segments, name="segments")
    app.add_typer(gaps, name="gaps")


def _version() -> str:
    try:
        return importlib.metadata.version("oversight")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@contextmanager
def _stop_on_signals(supervisor: Supervisor) -> Iterator[None]:
    """SIGTERM and SIGINT stop the supervisor cleanly (it seals the open segments)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        err_console.print(f"{signal.Signals(signum).name}: stopping, sealing open segments...")
        supervisor.stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _status_table(views: list[CameraView]) -> Table:
    table = Table(title="Oversight recorder (Ctrl-C stops and seals)", title_justify="left")
    for col in ("camera", "state", "since", "last segment", "segments", "restarts", "last error"):
        table.add_column(col)
    for v in views:
        table.add_row(
            v.camera,
            v.state,
            _when(v.since),
            _when(v.last_segment_at),
            str(v.segments),
            str(v.restarts),
            v.last_error or "",
        )
    return table


def record(
    segment_seconds: Annotated[
        int, typer.Option("--segment-seconds", min=1, help="Segment length in seconds.")
    ] = 60,
    camera: Annotated[
        list[str] | None,
        typer.Option("--camera", help="Record only this camera (repeatable). Default: all."),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option("--duration", min=0.0, help="Stop cleanly after this many seconds."),
    ] = None,
    input_timeout: Annotated[
        float,
        typer.Option("--input-timeout", min=0.1, help="Seconds without data before a reconnect."),
    ] = 10.0,
    min_free_bytes: Annotated[
        int | None,
        typer.Option(
            "--min-free-bytes",
            min=0,
            help="Stop recording below this much free disk (default: the setting).",
        ),
    ] = None,
    node: Annotated[
        str | None,
        typer.Option(
            "--node",
            help="Join the recorder pool as this node (PostgreSQL and a shared store): "
            "cameras come from leases, not --camera.",
        ),
    ] = None,
    capacity: Annotated[
        int,
        typer.Option("--capacity", help="Most cameras this node records (with --node)."),
    ] = 100,
    data_dir: DataDirOption = None,
) -> None:
    """Record every registered camera into sealed segments until SIGTERM or Ctrl-C.

    With --node NAME the recorder is one node of a pool: it claims its fair share of the
    cameras by capacity through PostgreSQL leases, takes over those of a node that
    stops renewing, and on SIGTERM seals and lets its cameras go at once (docs/scale.md)."""
    require_private(settings_for(data_dir))  # finding 5: never record into an open data dir
    if node is not None:
        pool.check_name(node)
        if capacity < 1:
            raise InvalidInput(f"--capacity must be at least 1, not {capacity}")
        if camera:
            raise InvalidInput("--camera cannot be used with --node: a pool's leases choose")
    with open_system(data_dir) as system:
        pool_node = None
        if node is not None:
            pool.join(
                system,
                acting(system),
                name=node,
                capacity=capacity,
                host=socket.gethostname(),
                pid=os.getpid(),
                version=_version(),
            )
            pool_node = PoolNode(node, capacity)
        options = RecorderOptions(
            segment_seconds=segment_seconds,
            cameras=tuple(camera or ()),
            input_timeout=input_timeout,
            min_free_bytes=(
                system.settings.recorder_min_free_bytes
                if min_free_bytes is None
                else min_free_bytes
            ),
        )
        supervisor = Supervisor(system, options, node=pool_node)
        # Checkpoints go to the witnesses from a background thread: never waits on sealing.
        with _stop_on_signals(supervisor), witnessing.Submitter(system):
            if sys.stdout.isatty():
                with Live(_status_table([]), console=console, refresh_per_second=2) as live:
                    shown = [0.0]

                    def refresh(views: list[CameraView]) -> None:
                        if time.monotonic() - shown[0] >= 0.5:
                            shown[0] = time.monotonic()
                            live.update(_status_table(views))

                    supervisor.run(duration, on_tick=refresh)
                    live.update(_status_table(supervisor.snapshot()))
            else:
                logging.getLogger("oversight.recorder").setLevel(logging.INFO)
                supervisor.run(duration)
        views = supervisor.snapshot()
    total = sum(v.segments for v in views)
    console.print(f"Recorder stopped: {total} segments sealed from {len(views)} cameras.")


@segments.command("list")
def segments_list(
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Overlapping this ISO 8601 instant or later.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Before this ISO 8601 instant.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List sealed segments, oldest first."""
    begin = parse_instant(start, "--from") if start else None
    until = parse_instant(end, "--to") if end else None
    with open_system(data_dir) as system:
        items = svc.list_segments(system, acting(system), camera=camera, start=begin, end=until)
    if as_json:
        print_json([asdict(s) for s in items])
        return
    print_table(
        "Segments",
        ["camera", "seq", "start", "end", "seconds", "bytes", "sha256", "leaf"],
        [
            (
                s.camera,
                s.seq,
                _when(s.start),
                _when(s.end),
                f"{(s.end - s.start).total_seconds():.1f}",
                s.size,
                s.sha256[:16],
                s.leaf_index,
            )
            for s in items
        ],
    )


@segments.command("quarantined")
def segments_quarantined(
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List spool files that could not be sealed, kept in the quarantine directory."""
    with open_system(data_dir) as system:
        items = svc.list_quarantined(system, camera)
    if as_json:
        print_json([asdict(q) for q in items])
        return
    print_table(
        "Quarantined segments",
        ["camera", "file", "bytes", "reason", "kept at", "when"],
        [(q.camera, q.filename, q.size, q.reason, q.path, _when(q.created_at)) for q in items],
    )


@gaps.command("list")
def gaps_list(
    camera: Annotated[str | None, typer.Option("--camera", help="Only this camera.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List recorded gaps in the footage, oldest first."""
    with open_system(data_dir) as system:
        items = svc.list_gaps(system, acting(system), camera)
    if as_json:
        print_json([asdict(g) for g in items])
        return
    print_table(
        "Gaps",
        ["camera", "start", "end", "seconds", "reason", "leaf"],
        [
            (
                g.camera,
                _when(g.start),
                _when(g.end),
                f"{(g.end - g.start).total_seconds():.1f}",
                g.reason,
                g.leaf_index,
            )
            for g in items
        ],
    )


@cameras.command("status")
def cameras_status(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Recording state of each camera, as the recorder last stored it."""
    with open_system(data_dir) as system:
        items = svc.list_status(system, acting(system))
    if as_json:
        print_json([asdict(s) for s in items])
        return
    print_table(
        "Camera status",
        ["camera", "state", "since", "last segment", "last error", "updated"],
        [
            (
                s.camera,
                s.state,
                _when(s.since),
                _when(s.last_segment_at),
                s.last_error,
                _when(s.updated_at),
            )
            for s in items
        ],
    )
