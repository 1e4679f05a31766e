"""A real ``oversight serve`` in a subprocess, over the data dir of the ``web`` fixture,
and raw-socket helpers: the edge tests need what a client on the network sees (a body
left unread, a connection closed), which an in-process client cannot show."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.web.conftest import free_port

MAIN = "from oversight.cli.main import main; main()"


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]
    stderr: Path

    def output(self) -> str:
        """What the server printed on stderr so far."""
        return self.stderr.read_text("utf-8", errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss(self) -> int:
        """The server's resident memory, in bytes, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text("ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


@contextmanager
def serve(**settings: str) -> Iterator[Served]:
    """``oversight serve`` with extra OVERSIGHT_* settings, until it answers."""
    port = free_port()
    env = {**os.environ, **{f"OVERSIGHT_{k.upper()}": v for k, v in settings.items()}}
    log = Path(tempfile.mkstemp(prefix="oversight-serve-", suffix=".log")[1])
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", MAIN, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    served = Served(port, process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"serve exited: {served.output()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("serve did not start") from None
                time.sleep(0.1)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink()


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def read_response(sock: socket.socket, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and as much of the body as arrives before the server closes or
    Content-Length is met. Raises TimeoutError if no complete head arrives in time."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(status_line.split()[1]), headers, rest


def push(sock: socket.socket, total: int, seconds: float, *, chunked: bool = False) -> int:
    """Send up to ``total`` bytes of filler (as chunks if ``chunked``) for at most
    ``seconds``; the bytes sent."""
    sock.settimeout(0.5)
    block = b"x" * (1 << 20)
    if chunked:
        block = b"%x\r\n%s\r\n" % (len(block), block)
    sent = 0
    deadline = time.monotonic() + seconds
    while sent < total and time.monotonic() < deadline:
        try:
            sent += sock.send(block)
        except TimeoutError:
            continue  # the server is not reading: its window is full
        except OSError:
            break  # closed by the server
    return sent
