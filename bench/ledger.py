"""Ledger benchmarks, each printed as a ratio against a baseline measured in the same run.

1. append: leaves/s in batches of 1,000 into the persistent log (SQLite, WAL, synchronous
   FULL), against the same rows inserted by a bare executemany with no hashing or signing.
2. inclusion proof at 1,000,000 leaves: median time to build a proof from the stored log,
   against building it from all leaf hashes held in memory.
3. `oversight verify` over stored segment files: bytes/s against plain hashlib.sha256 over
   the same files.

Usage: python bench/ledger.py [--leaves N] [--files N] [--file-mb N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oversight import bootstrap
from oversight.config import Settings
from oversight.ledger import keys, leaves, merkle
from oversight.services.sealing import seal_file
from oversight.services.verify import verify

AT = datetime(2026, 5, 1, tzinfo=UTC)


def _leaf(i: int) -> dict[str, object]:
    return leaves.registry(
        at=AT, actor="bench", action="camera.update", subject=f"camera:c{i % 100}",
        changes={"n": i, "note": "x" * 40},
    )  # fmt: skip


def _system(data_dir: Path) -> bootstrap.System:
    os.environ["OVERSIGHT_DATA_DIR"] = str(data_dir)
    os.environ.pop("OVERSIGHT_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "oversight.cli.main", "init"], check=True, capture_output=True
    )
    return bootstrap.build(Settings())


def bench_append(system: bootstrap.System, total: int, batch: int = 1000, rounds: int = 10) -> None:
    """Ours and the baseline take turns, a round each of ``total / rounds`` leaves, so a
    busy spell on a shared host slows both sides of a round alike; the figures are the
    medians over rounds, with the slowest and fastest round beside them."""
    # Leaf objects are the caller's; both sides are timed from ready-made leaves.
    batches = [[_leaf(i) for i in range(first, first + batch)] for first in range(0, total, batch)]
    per_round = max(1, len(batches) // rounds)
    ours: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        # Baseline: the same canonical rows, bare sqlite3 executemany, same pragmas.
        db = sqlite3.connect(Path(tmp) / "bare.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (idx INTEGER PRIMARY KEY, kind TEXT, data BLOB)")
        for first in range(0, len(batches), per_round):
            chunk = batches[first : first + per_round]
            leaves_in = sum(len(b) for b in chunk)
            start = time.perf_counter()
            for entries in chunk:
                with system.sessions.begin() as session:
                    system.ledger.append(session, entries)
            ours.append(leaves_in / (time.perf_counter() - start))
            start = time.perf_counter()
            for n, entries in enumerate(chunk, start=first):
                rows = [
                    (n * batch + i, "registry", leaves.canonical(e)) for i, e in enumerate(entries)
                ]
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
                db.execute("COMMIT")
            bare.append(leaves_in / (time.perf_counter() - start))
        db.close()
    median, base = statistics.median(ours), statistics.median(bare)
    ratios = [o / b for o, b in zip(ours, bare, strict=True)]
    print(
        f"ledger append: {median:,.0f} leaves/s in batches of {batch} (median of {len(ours)} "
        f"rounds, {min(ours):,.0f}-{max(ours):,.0f}; {statistics.median(ratios):.2f}x vs "
        f"canonical JSON + bare executemany at {base:,.0f} rows/s; target 50,000)"
    )


def bench_proofs(system: bootstrap.System, size: int, probes: int = 500) -> None:
    with system.sessions() as session:
        n = system.ledger.size(session)
        assert n >= size, (n, size)
        hashes = [leaf.leaf_hash for leaf in system.ledger.leaves(session, 0, size)]
        indexes = [(i * 7919) % size for i in range(probes)]
        times = []
        for index in indexes:
            t = time.perf_counter()
            system.ledger.inclusion_proof(session, index, size)
            times.append(time.perf_counter() - t)
        get = merkle.node_getter(hashes)
        mem = []
        for index in indexes:
            t = time.perf_counter()
            merkle.inclusion_proof(index, size, get)
            mem.append(time.perf_counter() - t)
    ours, base = statistics.median(times), statistics.median(mem)
    print(
        f"inclusion proof at {size:,} leaves: median {ours * 1000:.3f} ms from the stored log "
        f"({ours / base:.1f}x vs {base * 1000:.3f} ms from all hashes in memory; target < 1 ms)"
    )


def bench_verify(system: bootstrap.System, tmp: Path, files: int, mb: int) -> None:
    for args in (
        ["orgs", "add", "--id", "o", "--name", "O", "--kind", "owner"],
        ["sites", "add", "--id", "s", "--name", "S", "--category", "school", "--owner", "o"],
        ["cameras", "add", "--id", "cam", "--site", "s", "--placement", "general",
         "--coverage", "entrance", "--stream", "rtsp://127.0.0.1/cam",
         "--commissioned", "2026-04-01"],
    ):  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "oversight.cli.main", *args], check=True, capture_output=True
        )
    spool = tmp / "spool"
    spool.mkdir()
    for i in range(files):
        path = spool / f"{i}.mp4"
        path.write_bytes(os.urandom(mb << 20))
        start = AT + timedelta(minutes=i)
        seal_file(system, camera="cam", path=path, start=start, end=start + timedelta(minutes=1))
        path.unlink()
    store_files = sorted(p for p in (system.settings.store_dir).rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in store_files)
    # Warm the page cache once so both runs read from memory, not the disk.
    for p in store_files:
        p.read_bytes()
    t = time.perf_counter()
    for p in store_files:
        h = hashlib.sha256()
        with p.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    base = total / (time.perf_counter() - t)
    t = time.perf_counter()
    report = verify(system)
    ours = total / (time.perf_counter() - t)
    assert report.ok, report.problems
    print(
        f"verify: {ours / 1e6:,.0f} MB/s over {files} segments of {mb} MiB "
        f"({ours / base:.2f}x vs plain hashlib.sha256 at {base / 1e6:,.0f} MB/s; target >= 0.8x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--file-mb", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        system = _system(tmp / "var")
        try:
            assert keys.key_path(system.settings.keys_dir).exists()
            bench_append(system, args.leaves)
            bench_proofs(system, args.leaves)
        finally:
            system.close()
        # A deployment of its own, so the figure is about footage, not a million leaves.
        system = _system(tmp / "var-footage")
        try:
            bench_verify(system, tmp, args.files, args.file_mb)
        finally:
            system.close()


if __name__ == "__main__":
    main()
