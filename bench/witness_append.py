"""Witness benchmark, third figure of issue 20 (the first two, cosign round trip and
checkpoints per second one witness sustains, belong to bench/witness.py, the witness's
own): ledger appends per second with two witnesses configured, as a ratio to none, in
the same run (goal >= 0.95x).

Two deployments (SQLite, WAL, synchronous FULL) append the same one-leaf transactions (a
seal appends one leaf), taking turns a round each so a busy spell on a shared host slows
both alike; one runs the background witness submitter (``services/witnessing.py``,
interval ``--interval`` seconds) against two witnesses, each the real program
(``oversight witness serve``) in its own process with its own data dir.

Usage: python bench/witness_append.py [--leaves N] [--rounds N] [--interval S]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx

from oversight import bootstrap
from oversight.config import Settings
from oversight.ledger import leaves
from oversight.services import witnessing

AT = datetime(2026, 5, 1, tzinfo=UTC)


def _leaf(i: int) -> dict[str, object]:
    return leaves.registry(
        at=AT, actor="bench", action="camera.update", subject=f"camera:c{i % 100}",
        changes={"n": i},
    )  # fmt: skip


def _system(data_dir: Path) -> bootstrap.System:
    os.environ["OVERSIGHT_DATA_DIR"] = str(data_dir)
    os.environ.pop("OVERSIGHT_WITNESSES", None)
    os.environ.pop("OVERSIGHT_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "oversight.cli.main", "init"], check=True, capture_output=True
    )
    return bootstrap.build(Settings())


def _oversight(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "oversight.cli.main", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def start_witness(
    data_dir: Path, name: str, log_vkey: str, origin: str
) -> tuple[subprocess.Popen[bytes], str]:
    """One `oversight witness` (init, add-log, serve); its process and config entry."""
    vkey = _oversight("witness", "init", "--data-dir", str(data_dir), "--name", name)
    vkey = vkey.strip().splitlines()[-1]
    _oversight("witness", "add-log", origin, log_vkey, "--data-dir", str(data_dir))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "oversight.cli.main", "witness", "serve", "--port", str(port),
         "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/latest/none", timeout=1)
            return process, f"{url}={vkey}"
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("a witness did not start")


def _append(system: bootstrap.System, first: int, n: int) -> float:
    start = time.perf_counter()
    for i in range(first, first + n):
        with system.sessions.begin() as session:
            system.ledger.append(session, [_leaf(i)])
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    os.environ["OVERSIGHT_WITNESS_INTERVAL_S"] = str(args.interval)
    with tempfile.TemporaryDirectory() as tmp:
        witnessed_dir = Path(tmp) / "witnessed"
        with closing(_system(witnessed_dir)) as first:
            vkey = first.ledger.signer().verifier().encode()  # type: ignore[attr-defined]
            origin = first.ledger.origin
        started = [
            start_witness(Path(tmp) / f"w{i}", f"w{i}.bench/witness", vkey, origin) for i in (1, 2)
        ]
        config = ",".join(entry for _, entry in started)
        try:
            witnessed = bootstrap.build(Settings(data_dir=witnessed_dir, witnesses=config))
            plain = _system(Path(tmp) / "plain")
            ours: list[float] = []
            base: list[float] = []
            per_round = max(1, args.leaves // args.rounds)
            with closing(plain), closing(witnessed), witnessing.Submitter(witnessed):
                for r in range(args.rounds):
                    base.append(_append(plain, r * per_round, per_round))
                    ours.append(_append(witnessed, r * per_round, per_round))
                cosigned = [st.size for st in witnessing.status(witnessed)]
        finally:
            for process, _ in started:
                process.terminate()
                process.wait(10)
    ratio = statistics.median(ours) / statistics.median(base)
    print(
        f"ledger append with 2 witnesses: {statistics.median(ours):.0f} leaves/s "
        f"({ratio:.2f}x vs {statistics.median(base):.0f} leaves/s with none; goal >= 0.95x; "
        f"submitter every {args.interval:g} s, witnesses cosigned sizes {cosigned})"
    )


if __name__ == "__main__":
    main()
