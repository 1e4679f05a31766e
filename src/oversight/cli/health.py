"""``oversight health`` and ``oversight monitor``: live stream health, tamper references."""

from __future__ import annotations

import signal
from datetime import datetime
from types import FrameType
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
    settings_for,
)
from oversight.errors import InvalidInput, NotFound
from oversight.services import credentials, pool, recording
from oversight.services import health as svc
from oversight.services.filemodes import require_private

COLUMNS = ["camera", "live", "since", "fps", "kbit/s", "recorder", "last segment"]
COLUMNS += ["gaps today", "open alarms"]

health = typer.Typer(
    help="Camera health: live state, frame rate, bitrate, alarms; tamper references.",
    invoke_without_command=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(health, name="health")
    app.command("monitor")(monitor)


@health.callback()
def show(
    ctx: typer.Context,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Per camera: live state from the monitor (online/offline since, fps, kbit/s), the
    recorder's state, the last sealed segment, gaps today and open alarms."""
    if ctx.invoked_subcommand is not None:
        return
    with open_system(data_dir) as system:
        rows = svc.report(system, acting(system))
        tz = system.packs.timezone
    if as_json:
        print_json([r.to_json() for r in rows])
        return

    def local(moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    print_table(
        "Camera health",
        COLUMNS,
        [
            (
                r.camera,
                r.live,
                local(r.live_since),
                "" if r.fps is None else f"{r.fps:.1f}",
                "" if r.kbps is None else f"{r.kbps:.0f}",
                r.recorder,
                local(r.last_segment_at),
                r.gaps_today,
                ", ".join(r.open_alarms),
            )
            for r in rows
        ],
    )


@health.command("learn")
def learn(
    camera: Annotated[str, typer.Argument(help="Camera id.")],
    frames: Annotated[
        int, typer.Option("--frames", min=3, max=30, help="Keyframes to learn from.")
    ] = 4,
    data_dir: DataDirOption = None,
) -> None:
    """(Re-)learn a camera's tamper reference from its live stream now (operators and
    admins); a running monitor picks it up. Point the camera at its normal scene first."""
    from oversight.health.frames import read_keyframes
    from oversight.health.references import learn_reference

    with open_system(data_dir) as system:
        require_login(system, "alarms.raise")
        sources = recording.recordable_cameras(system, (camera,))
        if not sources:
            raise NotFound(f"camera {camera} is not registered (or was removed)")
        sampled = read_keyframes(credentials.open_url(system, sources[0]), max_frames=frames)
        if len(sampled) < frames:
            raise InvalidInput(f"camera {camera}: only {len(sampled)} keyframes arrived")
        learn_reference(system, acting(system), camera, sampled)
    console.print(f"Learned the tamper reference of {camera} from {frames} keyframes.")


def monitor(
    camera: Annotated[
        list[str] | None,
        typer.Option("--camera", help="Watch only this camera (repeatable). Default: all."),
    ] = None,
    offline_after: Annotated[
        float,
        typer.Option("--offline-after", min=1.0, help="Seconds without video before 'offline'."),
    ] = 10.0,
    duration: Annotated[
        float | None, typer.Option("--duration", min=0.0, help="Stop after this many seconds.")
    ] = None,
    node: Annotated[
        str | None,
        typer.Option(
            "--node",
            help="In a recorder pool: watch the cameras recorder node NAME holds the leases "
            "of (run it beside that node's `record --node NAME`).",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Watch every registered camera's live stream until interrupted: offline, frame-rate
    and bitrate collapse, covered / defocused / moved / too dark / overexposed pictures
    become alarms (ledger leaves, log, webhook); `oversight health` shows the state."""
    from oversight.health.monitor import Monitor, MonitorOptions

    require_private(settings_for(data_dir))  # finding 5: never run over an open data dir
    with open_system(data_dir) as system:
        if node is not None:
            if camera:
                raise InvalidInput("--camera cannot be used with --node: the leases choose")
            pool.require_pool_database(system)
        watcher = Monitor(
            system,
            MonitorOptions(offline_after=offline_after, only=tuple(camera or ()), node=node),
        )

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            watcher.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        watcher.run(duration)
