"""Witness benchmark (issue 20): cosign round trip and throughput of one real witness.

``oversight witness serve`` runs in a subprocess on 127.0.0.1 with a fresh data dir; a
bare echo app on the same stack (Starlette on uvicorn, one process) runs beside it as
the baseline, measured in the same run with the same bodies:

1. round trip: one keep-alive client submits checkpoints of one log one after another
   (each one leaf larger, with its real consistency proof); p50/p99 (goal p99 < 50 ms),
   and as a ratio to the echo's p99;
2. throughput: ``--clients`` logs submitted concurrently, each on its own keep-alive
   connection, for ``--seconds``; cosigned checkpoints per second (goal >= 1,000/s), and
   as a ratio to the echo's requests per second.

Bodies are signed before the clock starts; the client is a minimal asyncio HTTP/1.1
writer so that it costs the shared cores little. Figures are printed, never asserted.

Usage: python bench/witness.py [--round-trips 500] [--clients 16] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oversight.ledger import merkle, note

HOST = "127.0.0.1"
ECHO_APP = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
async def echo(request):
    return Response(await request.body(), media_type="text/plain")
app = Starlette(routes=[Route("/add-checkpoint", echo, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def cli(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "oversight.cli.main", "witness", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


def log_bodies(origin: str, skey: str, count: int) -> list[bytes]:
    """Submissions of sizes 1..count, each from the one before, with real proofs."""
    signer = note.parse_signer(skey)
    leaves = [merkle.leaf_hash(f"{origin} {i}".encode()) for i in range(count)]
    bodies = []
    for size in range(1, count + 1):
        cp = note.Checkpoint(origin, size, merkle.root_hash(leaves[:size]))
        proof = merkle.consistency_proof(size - 1, size, leaves[:size])
        lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        bodies.append(f"old {size - 1}\n{lines}\n{note.sign_checkpoint(cp, [signer])}".encode())
    return bodies


class Conn:
    """One keep-alive HTTP/1.1 connection that POSTs bodies and reads the status."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        return cls(*await asyncio.open_connection(HOST, port))

    async def post(self, body: bytes) -> int:
        head = (
            f"POST /add-checkpoint HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw.split(b" ", 2)[1])
        length = 0
        for line in raw.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def round_trips(port: int, bodies: list[bytes]) -> list[float]:
    conn = await Conn.open(port)
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        status = await conn.post(body)
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"status {status}")
    conn.close()
    return times


async def throughput(port: int, per_log: list[list[bytes]], seconds: float) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def run(bodies: list[bytes]) -> None:
        nonlocal done
        conn = await Conn.open(port)
        for body in bodies:
            if time.perf_counter() > stop:
                break
            status = await conn.post(body)
            if status != 200:
                raise RuntimeError(f"status {status}")
            done += 1
        conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(run(b) for b in per_log))
    return done / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--round-trips", type=int, default=500)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--per-client", type=int, default=400, help="bodies signed per log")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = str(Path(tmp) / "witness")
        cli("init", "--data-dir", data_dir, "--name", "bench.test/witness")
        logs = [
            (f"bench.test/log{i}", *note.generate_signer(f"bench.test/log{i}"))
            for i in range(args.clients + 1)
        ]
        for origin, _skey, vkey in logs:
            cli("add-log", origin, vkey, "--data-dir", data_dir)
        print("signing bodies ...", flush=True)
        rt_bodies = log_bodies(logs[0][0], logs[0][1], args.round_trips)
        tp_bodies = [log_bodies(o, s, args.per_client) for o, s, _ in logs[1:]]
        wport, eport = free_port(), free_port()
        env = {**os.environ}
        witness = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oversight.cli.main",
                "witness",
                "serve",
                "--port",
                str(wport),
                "--data-dir",
                data_dir,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        echo = subprocess.Popen([sys.executable, "-c", ECHO_APP, str(eport)], env=env)
        try:
            wait_listening(wport)
            wait_listening(eport)
            base = asyncio.run(round_trips(eport, rt_bodies))
            cos = asyncio.run(round_trips(wport, rt_bodies))
            b99, c99 = percentile(base, 99) * 1e3, percentile(cos, 99) * 1e3
            print(
                f"cosign round trip: p50 {percentile(cos, 50) * 1e3:.2f} ms, p99 {c99:.2f} ms "
                f"(goal p99 < 50 ms); echo p99 {b99:.2f} ms; ratio {c99 / b99:.2f}x"
            )
            echo_rate = asyncio.run(throughput(eport, tp_bodies, args.seconds))
            rate = asyncio.run(throughput(wport, tp_bodies, args.seconds))
            print(
                f"throughput: {rate:,.0f} checkpoints/s cosigned with {args.clients} logs "
                f"(goal >= 1,000/s); echo {echo_rate:,.0f} requests/s; "
                f"ratio {rate / echo_rate:.2f}x"
            )
        finally:
            for proc in (witness, echo):
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
