"""Abuse benchmark (issue 18): what a bounded flood costs everyone else, measured in one run.

``oversight serve`` runs in a subprocess on 127.0.0.1 with a fresh SQLite deployment. A probe
sends normal requests (an authenticated ``GET /api/v1/cameras``, one every 20 ms on a
keep-alive connection) first with no flood, then while each flood runs:

1. bodies: 16 clients with no token each send a JSON body announced as 500 MB (and one
   with a token sends 100 MB), in 64 KiB writes, as fast as the server takes them;
2. logins: 200 clients at once, each logging in again and again with a wrong password;
3. slowloris: 1,000 connections that send a partial request head and one header line
   every few seconds, never finishing it.

Each flood prints the server's resident memory growth (the peak sampled every 0.2 s over
its memory just before the flood) and the probe's p99 as a ratio to the p99 measured with
no flood just before it. Goals: growth under 50 MB, p99 within 2x. The flood's own client
shares the machine's cores with the server, so on 2 cores part of any slow-down is the
generator's; the figures are printed, never asserted.

Usage: python bench/abuse.py [--seconds 10] [--slow 1000] [--logins 200] [--bodies 16]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from oversight import bootstrap
from oversight.config import Settings
from oversight.services import people

PASSWORD = "bench password 12"  # noqa: S105 - a throwaway bench account
HOST = "127.0.0.1"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def deployment(data_dir: Path) -> None:
    os.environ["OVERSIGHT_DATA_DIR"] = str(data_dir)
    os.environ.pop("OVERSIGHT_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "oversight.cli.main", "init"], check=True, capture_output=True
    )
    system = bootstrap.build(Settings())
    try:
        boss = people.add_user(
            system, None, user_id="boss", name="Boss", roles=["admin"], id_doc="BOSS0001",
            password=PASSWORD,
        )  # fmt: skip
        people.record_training(
            system, boss, user_id="boss", trained_on=date(2026, 1, 1),
            valid_until=date(2030, 1, 1), topics=["skills", "confidentiality"],
        )  # fmt: skip
    finally:
        system.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def serve(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "oversight.cli.main", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=SERVER_LOG.open("wb"),  # never a pipe nobody reads: a full one stalls the server
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return proc
        except OSError:
            if proc.poll() is not None:
                err = SERVER_LOG.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"serve exited: {err}") from None
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("serve did not start in 30 s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


ATTACKER = "127.0.0.2"
SERVER_LOG = Path(tempfile.gettempdir()) / "oversight-bench-abuse-serve.log"
PROBE_WAIT = 5.0  # seconds a normal request may wait before it counts as refused


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def log_in(port: int) -> str:
    body = json.dumps({"user": "boss", "password": PASSWORD}).encode()
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(
            f"POST /api/v1/session HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status, reply = await read_reply(reader)
        if status != 200:
            raise RuntimeError(f"login failed: HTTP {status} {reply[:200]!r}")
        token: str = json.loads(reply)["token"]
        return token
    finally:
        writer.close()


async def probe(port: int, token: str, seconds: float, stop: asyncio.Event) -> list[float]:
    """Normal requests, one every 20 ms (or back to back when slower), on one connection."""
    request = (
        f"GET /api/v1/cameras HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), PROBE_WAIT)
    end = time.perf_counter() + seconds
    try:
        while time.perf_counter() < end and not stop.is_set():
            t0 = time.perf_counter()
            try:
                writer.write(request)
                status, _ = await asyncio.wait_for(read_reply(reader), PROBE_WAIT)
            except TimeoutError:
                # Not answered (a server out of connections queues us): counted as the
                # wait, so a denial of service shows in the p99 instead of hanging here.
                latencies.append(time.perf_counter() - t0)
                writer.close()
                with contextlib.suppress(OSError, TimeoutError):
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(HOST, port), PROBE_WAIT
                    )
                continue
            except (OSError, asyncio.IncompleteReadError):
                writer.close()  # an idle keep-alive closed by the server: reconnect
                reader, writer = await asyncio.open_connection(HOST, port)
                continue
            took = time.perf_counter() - t0
            if status == 200:
                latencies.append(took)
            await asyncio.sleep(max(0.0, 0.02 - took))
    finally:
        writer.close()
    return latencies


async def body_flood(port: int, token: str, stop: asyncio.Event, clients: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    chunk = b"[" + b"0," * 32767 + b"0"  # 64 KiB of valid-looking JSON

    async def one(authorised: bool) -> None:
        announced = 100_000_000 if authorised else 500_000_000
        auth = f"Authorization: Bearer {token}\r\n" if authorised else ""
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                outcomes["connect refused"] += 1
                await asyncio.sleep(0.05)
                continue
            reply: asyncio.Future[tuple[int, bytes]] | None = None
            try:
                head = (
                    f"POST /api/v1/access/requests HTTP/1.1\r\nHost: {HOST}:{port}\r\n{auth}"
                    f"Content-Type: application/json\r\nContent-Length: {announced}\r\n\r\n"
                )
                writer.write(head.encode())
                sent = 0
                reply = asyncio.ensure_future(read_reply(reader))
                while sent < announced and not reply.done() and not stop.is_set():
                    writer.write(chunk)
                    await writer.drain()
                    sent += len(chunk)
                status, _ = await asyncio.wait_for(reply, 30)
                outcomes[f"HTTP {status} after {sent >> 20} MiB" if sent > 1 << 26 else
                         f"HTTP {status}"] += 1  # fmt: skip
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                outcomes["closed by server"] += 1
                if reply is not None and reply.done() and not reply.cancelled():
                    reply.exception()  # retrieved: the server closing is the outcome
                elif reply is not None:
                    reply.cancel()
            finally:
                writer.close()

    await asyncio.gather(*(one(i == 0) for i in range(clients)))
    return outcomes


async def login_flood(port: int, stop: asyncio.Event, clients: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()

    async def one(i: int) -> None:
        body = json.dumps({"user": f"nobody{i}", "password": "wrong password 1"}).encode()
        request = (
            f"POST /api/v1/session HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
                try:
                    writer.write(request)
                    status, _ = await asyncio.wait_for(read_reply(reader), 30)
                    outcomes[f"HTTP {status}"] += 1
                finally:
                    writer.close()
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                outcomes["error"] += 1
                await asyncio.sleep(0.05)

    await asyncio.gather(*(one(i) for i in range(clients)))
    return outcomes


async def slowloris(port: int, stop: asyncio.Event, connections: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    writers: list[asyncio.StreamWriter] = []
    for _ in range(connections):
        try:
            # From another address than the probe's, as an attacker is (all of 127/8 is
            # local on Linux): the per-address bound is what this phase measures.
            _, writer = await asyncio.open_connection(HOST, port, local_addr=(ATTACKER, 0))
            writer.write(f"GET /api/v1/cameras HTTP/1.1\r\nHost: {HOST}:{port}\r\n".encode())
            writers.append(writer)
        except OSError:
            outcomes["refused at connect"] += 1
    outcomes["opened"] = len(writers)
    n = 0
    while not stop.is_set():
        await asyncio.sleep(2)
        for writer in writers:
            if not writer.is_closing():
                try:
                    writer.write(f"X-Slow-{n}: 1\r\n".encode())
                except OSError:
                    writer.close()
        n += 1
        await asyncio.sleep(0)
    open_at_end = 0
    for writer in writers:
        transport_ok = not writer.is_closing() and not writer.transport.is_closing()
        try:
            writer.write(b"X-Last: 1\r\n")
            await asyncio.wait_for(writer.drain(), 1)
        except (OSError, TimeoutError):
            transport_ok = False
        if transport_ok and not writer.transport.is_closing():
            open_at_end += 1
        writer.close()
    outcomes["still open at the end"] = open_at_end
    return outcomes


async def phase(
    name: str,
    port: int,
    pid: int,
    token: str,
    seconds: float,
    flood: Callable[[asyncio.Event], Awaitable[Counter[str]]],
) -> None:
    quiet = await probe(port, token, seconds, asyncio.Event())
    before = rss_mb(pid)
    stop = asyncio.Event()
    peak = before

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_mb(pid))
            await asyncio.sleep(0.2)

    flooding = asyncio.ensure_future(flood(stop))
    sampler = asyncio.ensure_future(sample())
    await asyncio.sleep(0.5)  # let the flood build up before the probe starts
    loaded = await probe(port, token, seconds, asyncio.Event())
    stop.set()
    outcomes = await flooding
    await sampler
    q99, l99 = percentile(quiet, 99), percentile(loaded, 99) if loaded else float("inf")
    print(f"{name}:")
    print(f"   flood: {', '.join(f'{k} x{v}' for k, v in sorted(outcomes.items()))}")
    print(
        f"   memory: {before:.0f} MB before, peak {peak:.0f} MB (growth {peak - before:+.0f} MB;"
        " goal < 50 MB)"
    )
    print(
        f"   normal requests: p99 {l99 * 1000:.1f} ms under the flood ({len(loaded)} answered) "
        f"vs {q99 * 1000:.1f} ms with none ({len(quiet)}): {l99 / q99:.2f}x (goal <= 2x)"
    )


async def run(args: argparse.Namespace, port: int, pid: int) -> None:
    token = await log_in(port)
    s = args.seconds
    await phase("1. bodies", port, pid, token, s, lambda e: body_flood(port, token, e, args.bodies))
    await phase("2. logins", port, pid, token, s, lambda e: login_flood(port, e, args.logins))
    await phase("3. slowloris", port, pid, token, s, lambda e: slowloris(port, e, args.slow))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--slow", type=int, default=1000)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--bodies", type=int, default=16)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.slow + 1024)), hard))
    with tempfile.TemporaryDirectory() as tmp:
        deployment(Path(tmp))
        port = free_port()
        proc = serve(port)
        try:
            asyncio.run(run(args, port, proc.pid))
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
