"""``oversight simulate``: synthetic cameras over real RTSP on 127.0.0.1.

For the demo, the tests and the benchmarks: an in-process RTSP relay serves
``rtsp://127.0.0.1:PORT/cam1`` ... ``camN`` from a few shared ffmpeg encoders until
SIGTERM or Ctrl-C, which stop every encoder before the command exits (0).
"""

from __future__ import annotations

import errno
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, cast

import typer

from oversight.cli.common import err_console
from oversight.errors import ConfigError, InvalidInput
from oversight.sim.cameras import (
    AUDIOS,
    CODECS,
    DEFAULT_ENCODERS,
    PICTURES,
    Audio,
    Codec,
    Picture,
    SimulatedCameraSet,
)
from oversight.sim.rtsp_relay import RelayThread

HOST = "127.0.0.1"


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInput(f"{option}: unknown value {value!r}; use one of {', '.join(allowed)}")
    return value


@contextmanager
def _stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stopping`` (the command then stops its encoders)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _listen(port: int) -> RelayThread:
    relay = RelayThread(HOST, port)
    try:
        relay.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {HOST} is busy (another simulator or RTSP server?): "
                "stop it or choose another --port"
            ) from None
        raise ConfigError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    return relay


def _describe(cams: SimulatedCameraSet, port: int) -> dict[str, Any]:
    encoders = [
        {"path": cams.encoder_path(i + 1), "url": enc.url, "pid": enc.pid}
        for i, enc in enumerate(cams.encoders)
    ]
    cameras = [
        {"camera": cam.name, "url": cam.url, "encoder": encoders[i % len(encoders)]["path"]}
        for i, cam in enumerate(cams)
    ]
    return {"host": HOST, "port": port, "cameras": cameras, "encoders": encoders}


def simulate(
    cameras: Annotated[int, typer.Option("--cameras", help="How many cameras: cam1..camN.")] = 1,
    port: Annotated[
        int, typer.Option("--port", help="RTSP port on 127.0.0.1 (0: any free port).")
    ] = 8554,
    encoders: Annotated[
        int | None,
        typer.Option(
            "--encoders",
            help=f"Shared live encoders, cameras round-robin (default min(N, {DEFAULT_ENCODERS})).",
            show_default=False,
        ),
    ] = None,
    codec: Annotated[str, typer.Option("--codec", help="Video: h264 | h265.")] = "h264",
    audio: Annotated[str, typer.Option("--audio", help="none | aac | pcma | pcmu.")] = "none",
    picture: Annotated[
        str, typer.Option("--picture", help="normal | covered (black) | blurred.")
    ] = "normal",
    bitrate: Annotated[int, typer.Option("--bitrate", help="Video bitrate, kbit/s.")] = 2000,
    restart_every: Annotated[
        float | None,
        typer.Option(
            "--restart-every",
            help="Restart every encoder each this many seconds (readers see the stream end).",
            show_default=False,
        ),
    ] = None,
    log_dir: Annotated[
        Path | None,
        typer.Option("--log-dir", help="Keep each encoder's ffmpeg log here.", show_default=False),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the URLs as one line of JSON once serving.")
    ] = False,
) -> None:
    """Serve N synthetic cameras over real RTSP on 127.0.0.1 until SIGTERM or Ctrl-C."""
    if cameras < 1:
        raise InvalidInput(f"--cameras must be at least 1, not {cameras}")
    if encoders is not None and not 1 <= encoders <= cameras:
        raise InvalidInput(f"--encoders must be between 1 and --cameras ({cameras})")
    if not 0 <= port <= 65535:
        raise InvalidInput(f"--port {port} is not a TCP port")
    if bitrate < 10:
        raise InvalidInput("--bitrate is in kbit/s and must be at least 10")
    if restart_every is not None and restart_every <= 0:
        raise InvalidInput("--restart-every must be positive")
    video = cast(Codec, _choice("--codec", codec, CODECS))
    sound = None if audio == "none" else cast(Audio, _choice("--audio", audio, ("none", *AUDIOS)))
    look = cast(Picture, _choice("--picture", picture, PICTURES))
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)

    stopping = threading.Event()
    relay = _listen(port)
    try:
        with _stop_on_signals(stopping):
            cams = SimulatedCameraSet(
                cameras,
                relay=relay,
                encoders=encoders,
                codec=video,
                audio=sound,
                picture=look,
                bitrate_kbps=bitrate,
                log_dir=log_dir,
            )
            cams.start()
            try:
                _announce(cams, relay.port, as_json, f"{video}, {audio} audio, {look} picture")
                _serve(cams, stopping, restart_every)
            finally:
                cams.stop()
    finally:
        relay.stop()
    if not as_json:
        err_console.print("Simulator stopped.")


def _announce(cams: SimulatedCameraSet, port: int, as_json: bool, what: str) -> None:
    if as_json:
        typer.echo(json.dumps(_describe(cams, port)))  # flushed: readers wait for it
        return
    typer.echo(
        f"Serving {len(cams)} simulated cameras from {len(cams.encoders)} shared encoders "
        f"({what}) on rtsp://{HOST}:{port}/ (SIGTERM or Ctrl-C stops):"
    )
    for url in cams.urls:
        typer.echo(f"  {url}")


def _serve(cams: SimulatedCameraSet, stopping: threading.Event, every: float | None) -> None:
    next_restart = time.monotonic() + every if every else None
    while not stopping.wait(0.5):
        for path in cams.revive():
            err_console.print(f"encoder {path} had exited: started again")
        if next_restart is not None and every and time.monotonic() >= next_restart:
            cams.restart()
            next_restart = time.monotonic() + every
