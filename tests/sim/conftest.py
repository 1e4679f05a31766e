"""Fixtures for the simulator tests. Every fixture stops or kills what it started, so a
failing test leaves no ffmpeg behind."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from oversight.sim.cameras import SimulatedCamera
from oversight.sim.rtsp_relay import RelayThread


@pytest.fixture
def relay() -> Iterator[RelayThread]:
    with RelayThread() as running:
        yield running


@pytest.fixture
def camera() -> Iterator[Callable[..., SimulatedCamera]]:
    """Start simulated cameras; all are stopped (SIGTERM, then SIGKILL) after the test."""
    started: list[SimulatedCamera] = []

    def start(url: str, **options: Any) -> SimulatedCamera:
        cam = SimulatedCamera(url, **options)
        started.append(cam)
        return cam.start()

    yield start
    for cam in started:
        cam.stop()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[list[str]], subprocess.Popen[bytes]]]:
    """Popen with stderr to a file in tmp_path; anything still running is killed after."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(argv: list[str]) -> subprocess.Popen[bytes]:
        with (tmp_path / f"proc{len(procs)}.log").open("wb") as err:
            procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=err))
        return procs[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
