"""API benchmarks (issue 7), each printed beside its baseline, measured in one run.

1. Coverage timeline: one camera, 30 days of 60 s segments (43,200 rows inserted
   directly into a fresh SQLite deployment made by ``oversight init``), fetched through
   ``GET /api/v1/cameras/{id}/coverage`` in process (the full ASGI app, auth included):
   p50/p99 against a bare ``SELECT start_at, end_at FROM segments WHERE camera_id=?``
   of the same rows. Target: p99 under 50 ms.
2. Load: ``oversight serve`` in a subprocess on 127.0.0.1; an open-loop generator sends
   --rate requests/s (default 200) of mixed read endpoints for --seconds (default 30),
   at most --concurrency in flight over keep-alive connections (requests beyond that are
   counted as dropped, never queued without bound; a lean asyncio HTTP/1.1 client, as
   httpx would cost more CPU than the server it measures). Reports the achieved rate and
   p50/p99, against the latency of a trivial endpoint (a static file) measured the same
   way. Target: p99 under 100 ms.

Figures are printed, never asserted. Usage:
    python bench/api.py [--seconds 30] [--rate 200] [--repeats 200] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from oversight import bootstrap
from oversight.config import Settings
from oversight.db import models as m
from oversight.services import auth, people, registry, windows
from oversight.web.app import create_app

DAYS = 30
SEGMENT_S = 60
PASSWORD = "bench password 12"  # noqa: S105 - a throwaway bench account


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def deployment(data_dir: Path) -> tuple[datetime, datetime]:
    """A fresh deployment with one camera and 30 days of 60 s segments; the range."""
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
        registry.add_org(system, boss, org_id="acme", name="Acme", kind="owner")
        registry.add_site(
            system, boss, site_id="s1", name="Site 1", category="school", owner_id="acme"
        )
        end = datetime.now(UTC).replace(second=0, microsecond=0)
        start = end - timedelta(days=DAYS)
        registry.add_camera(
            system, boss, camera_id="cam1", site_id="s1", placement="general", coverage="entrance",
            stream_url="rtsp://127.0.0.1:8554/cam1",
            commissioned=system.packs.local_date(start) - timedelta(days=1),
        )  # fmt: skip
        count = DAYS * 86400 // SEGMENT_S
        rows = [
            {
                "camera_id": "cam1",
                "seq": i + 1,
                "start_at": start + timedelta(seconds=i * SEGMENT_S),
                "end_at": start + timedelta(seconds=(i + 1) * SEGMENT_S),
                "size_bytes": 1_500_000,
                "sha256": f"{i:064x}",
                "prev_sha256": None,
                "storage_key": f"cam1/{i:08d}.mp4",
                "leaf_index": i,
            }
            for i in range(count)
        ]
        # Bench data straight into the index (no ledger leaves: not what is measured).
        with system.sessions.begin() as s:
            s.execute(m.Segment.__table__.insert(), [_columns(r) for r in rows])
            windows.record_length(s, "cam1", start, start + timedelta(seconds=SEGMENT_S))
    finally:
        system.close()
    return start, end


def _columns(row: dict[str, object]) -> dict[str, object]:
    out = dict(row)
    out["bytes"] = out.pop("size_bytes")
    return out


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm caches and connections
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench_coverage(start: datetime, end: datetime, repeats: int) -> None:
    system = bootstrap.build(Settings())
    try:
        app = create_app(system)
        token, _ = auth.login(system, "boss", PASSWORD)
        client = TestClient(app)
        client.headers["Authorization"] = f"Bearer {token}"
        params = {"from": start.isoformat(), "to": end.isoformat()}

        def api() -> None:
            reply = client.get("/api/v1/cameras/cam1/coverage", params=params)
            assert reply.status_code == 200, reply.text

        first = client.get("/api/v1/cameras/cam1/coverage", params=params).json()

        def bare() -> None:
            with system.engine.connect() as conn:
                conn.exec_driver_sql(
                    "SELECT start_at, end_at FROM segments WHERE camera_id=?", ("cam1",)
                ).fetchall()

        api_t, bare_t = timed(api, repeats), timed(bare, repeats)
    finally:
        system.close()
    print(
        f"1. coverage, 1 camera x {DAYS} days of {SEGMENT_S} s segments "
        f"({first['segments']} rows -> {len(first['recorded'])} recorded span(s)), "
        f"{repeats} requests:"
    )
    print(f"   API     p50 {ms(percentile(api_t, 50))}  p99 {ms(percentile(api_t, 99))}")
    print(f"   bare    p50 {ms(percentile(bare_t, 50))}  p99 {ms(percentile(bare_t, 99))}")
    ratio = percentile(api_t, 50) / percentile(bare_t, 50)
    print(f"   ratio API/bare (p50) {ratio:.2f}x   target: API p99 < 50 ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "oversight.cli.main", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"serve exited: {err}") from None
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("serve did not start in 30 s")


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator can be: the
    request is pre-encoded, the reply read by Content-Length. httpx costs the client
    several times the server's own CPU per request on this 2-core machine, so it would
    measure itself rather than the server."""

    def __init__(self, host: str, port: int, token: str | None) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{self.auth}\r\n".encode()
        fresh = self.writer is None
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(request)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            # The server closed an idle keep-alive connection (uvicorn: after 5 s): as
            # every HTTP client does for an idempotent request, reconnect and resend once.
            if fresh or exc.partial:
                raise
            self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def load(
    base: str, paths: list[str], token: str | None, rate: float, seconds: float, concurrency: int
) -> tuple[list[float], int, int, float]:
    """Open loop: request k is sent at t0 + k/rate whatever happened before; at most
    ``concurrency`` in flight, each on an idle keep-alive connection. Returns
    (latencies, errors, dropped, elapsed)."""
    host, port = base.removeprefix("http://").split(":")
    idle = [Connection(host, int(port), token) for _ in range(concurrency)]
    latencies: list[float] = []
    slowest: list[tuple[float, float, str]] = []
    errors = dropped = 0

    async def one(conn: Connection, path: str) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        try:
            status = await conn.get(path)
            if status != 200:
                errors += 1
                print(f"   error: HTTP {status} on {path.split('?')[0]}")
            else:
                latencies.append(time.perf_counter() - t0)
                slowest.append((time.perf_counter() - t0, t0 - start, path.split("?")[0]))
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors += 1
            print(f"   error: {type(exc).__name__} {exc} on {path.split('?')[0]}")
            conn.close()
            conn = Connection(host, int(port), token)
        idle.append(conn)

    tasks = []
    total = int(rate * seconds)
    start = time.perf_counter()
    for k in range(total):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if not idle:
            dropped += 1
            continue
        tasks.append(asyncio.create_task(one(idle.pop(), paths[k % len(paths)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for conn in idle:
        conn.close()
    if os.environ.get("BENCH_SLOWEST"):
        for took, at, path in sorted(slowest, reverse=True)[:8]:
            print(f"   slow: {took * 1000:.0f} ms at {at:.2f} s {path}")
    return latencies, errors, dropped, elapsed


async def sequential(
    port: int, token: str, paths: list[str], repeats: int
) -> dict[str, list[float]]:
    """Each endpoint alone, one request at a time on one connection."""
    conn = Connection("127.0.0.1", port, token)
    out: dict[str, list[float]] = {}
    try:
        for path in paths:
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                status = await conn.get(path)
                times.append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"HTTP {status} on {path}")
            out[path] = times
    finally:
        conn.close()
    return out


def bench_load(end: datetime, rate: float, seconds: float, concurrency: int) -> None:
    system = bootstrap.build(Settings())
    try:
        token, _ = auth.login(system, "boss", PASSWORD)
    finally:
        system.close()
    day = (end - timedelta(days=1)).isoformat().replace("+", "%2B")
    to = end.isoformat().replace("+", "%2B")
    mixed = [
        "/api/v1/cameras",
        "/api/v1/status",
        f"/api/v1/cameras/cam1/coverage?from={day}&to={to}",
        f"/api/v1/segments?camera=cam1&from={day}&to={to}&limit=50",
        "/api/v1/gaps",
        "/api/v1/retention",
        "/api/v1/ledger/checkpoint",
        "/api/v1/ledger/verify",
        "/api/v1/session",
        "/api/v1/cameras/cam1",
    ]
    port = free_port()
    proc = serve(port)
    try:
        base = f"http://127.0.0.1:{port}"
        # One at a time first: what each endpoint costs with no queueing at all.
        alone = asyncio.run(sequential(port, token, mixed, 20))
        trivial = asyncio.run(
            load(base, ["/static/app.css"], None, rate, min(seconds, 10), concurrency)
        )
        mixed_r = asyncio.run(load(base, mixed, token, rate, seconds, concurrency))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        f"2. load: {rate:.0f} req/s offered for {seconds:.0f} s over {len(mixed)} read "
        f"endpoints (at most {concurrency} in flight), one `oversight serve` process:"
    )
    for name, (lat, errors, dropped, elapsed) in (("mixed", mixed_r), ("trivial", trivial)):
        achieved = len(lat) / elapsed
        print(
            f"   {name:<8} achieved {achieved:6.1f} req/s  p50 {ms(percentile(lat, 50))}  "
            f"p99 {ms(percentile(lat, 99))}  errors {errors}  dropped {dropped}"
        )
    print("   each endpoint alone (20 sequential requests, median):")
    for path, times in alone.items():
        print(f"     {ms(percentile(times, 50)):>10}  {path.split('?')[0]}")
    mean = sum(percentile(t, 50) for t in alone.values()) / len(alone)
    print(f"     mean {ms(mean)}: one process serves at most ~{1 / mean:.0f} req/s of this mix")
    ratio = percentile(mixed_r[0], 99) / percentile(trivial[0], 99)
    print(
        f"   ratio mixed/trivial (p99) {ratio:.2f}x   trivial = GET /static/app.css   "
        "target: mixed p99 < 100 ms at 200 req/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oversight-bench-api-") as tmp:
        start, end = deployment(Path(tmp) / "var")
        bench_coverage(start, end, args.repeats)
        bench_load(end, args.rate, args.seconds, args.concurrency)


if __name__ == "__main__":
    main()
