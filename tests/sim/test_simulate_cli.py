"""``oversight simulate``: real RTSP cameras from a real process, and its one-line errors."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oversight.cli.main import app

Simulator = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Simulator]:
    """``oversight simulate ARGS`` in its own session; killed with its encoders if the test
    leaves it running (the session holds the simulator and its ffmpeg, nothing else)."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        with (tmp_path / "simulate.err").open("w") as err:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "oversight.cli.main", "simulate", *args],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    start_new_session=True,
                )
            )
        return procs[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def readline(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the simulator printed nothing in time"
    return proc.stdout.readline()


def ffprobe(url: str) -> subprocess.Popen[str]:
    argv = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries"]
    argv += ["stream=codec_name,width", "-of", "csv=p=0", url]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.ffmpeg
def test_simulate_serves_cameras_until_sigterm(simulator: Simulator, tmp_path: Path) -> None:
    proc = simulator("--cameras", "3", "--encoders", "2", "--port", "0", "--json")
    ready = json.loads(readline(proc))
    port = ready["port"]
    urls = [c["url"] for c in ready["cameras"]]
    assert urls == [f"rtsp://127.0.0.1:{port}/cam{i}" for i in (1, 2, 3)]
    assert [c["encoder"] for c in ready["cameras"]] == ["enc1", "enc2", "enc1"]
    probes = [ffprobe(url) for url in urls]
    assert [p.communicate(timeout=15)[0].strip() for p in probes] == ["h264,640"] * 3
    pids = [encoder["pid"] for encoder in ready["encoders"]]
    assert len(pids) == 2 and all(Path(f"/proc/{pid}").exists() for pid in pids)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)  # stopped and reaped
    errors = (tmp_path / "simulate.err").read_text()
    assert "Traceback" not in errors and "WARNING" not in errors, errors


@pytest.mark.ffmpeg
def test_simulate_prints_urls_and_stops_on_ctrl_c(simulator: Simulator) -> None:
    proc = simulator("--cameras", "1", "--port", "0", "--picture", "blurred")
    assert readline(proc).startswith("Serving 1 simulated cameras from 1 shared encoders")
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()  # printed with the first line
    assert url.startswith("rtsp://127.0.0.1:") and url.endswith("/cam1")
    assert ffprobe(url).communicate(timeout=15)[0].strip() == "h264,640"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cameras", "0"], "--cameras must be at least 1, not 0"),
        (["--cameras", "2", "--encoders", "3"], "--encoders must be between 1 and --cameras (2)"),
        (["--codec", "vp9"], "--codec: unknown value 'vp9'; use one of h264, h265"),
        (["--audio", "mp3"], "--audio: unknown value 'mp3'; use one of none, aac, pcma, pcmu"),
        (["--picture", "smashed"], "--picture: unknown value 'smashed'"),
        (["--port", "70000"], "--port 70000 is not a TCP port"),
    ],
)
def test_bad_arguments_are_one_line_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", *args])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: {message}")


def test_busy_port_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["simulate", "--port", str(port)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is busy (another simulator or RTSP server?): "
        "stop it or choose another --port"
    ]
