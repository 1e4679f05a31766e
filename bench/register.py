"""Register benchmark (issue 22, item 7): one page of the register console over a large
ledger, read a chunk at a time, against decoding the whole register (``audit.log``).

The ledger gets ``--leaves`` leaves (default 100,000): 87% segment seals of three
cameras (5 s apart), the rest playback fetches (sessions of 20, one grant) and a few
decisions. Prints the time of each page and the leaves it read.

Usage: python bench/register.py [--leaves N] [--database-url URL]  (default: SQLite)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from oversight import bootstrap
from oversight.config import Settings
from oversight.ledger import leaves
from oversight.services import audit, people, register

AT = datetime(2026, 5, 1, tzinfo=UTC)
STEP = timedelta(seconds=5)


def _leaf(i: int) -> dict[str, Any]:
    at = AT + i * STEP
    if i % 100 < 87:
        return leaves.segment_sealed(
            at=at, camera=f"cam{i % 3}", seq=i, prev_sha256="", start=at - STEP, end=at,
            clock_offset_ms=0, size=1_500_000, sha256="0" * 64, storage_key=f"k/{i}.mp4",
        )  # fmt: skip
    leaf = leaves.access(
        at=at, actors=["cust", "wit"], action="view" if i % 100 < 99 else "approve",
        target="cam0", purpose="bench", destination="", grant=str(i // 2000),
    )  # fmt: skip
    leaf["details"] = {"request": str(i // 2000), "viewed": [leaves_range(at)]}
    return leaf


def leaves_range(at: datetime) -> dict[str, str]:
    return {"camera": "cam0", "start": leaves.instant(at - STEP), "end": leaves.instant(at)}


def _system(data_dir: Path, url: str | None) -> bootstrap.System:
    os.environ["OVERSIGHT_DATA_DIR"] = str(data_dir)
    os.environ.pop("OVERSIGHT_DATABASE_URL", None)
    if url:
        os.environ["OVERSIGHT_DATABASE_URL"] = url
    subprocess.run(
        [sys.executable, "-m", "oversight.cli.main", "init"], check=True, capture_output=True
    )
    return bootstrap.build(Settings())


def _timed(what: str, run: Any) -> None:
    start = time.perf_counter()
    found = run()
    took = (time.perf_counter() - start) * 1000
    lines = len(found.rows) if hasattr(found, "rows") else len(found)
    read = getattr(found, "read", "all")
    print(f"{what:<44} {took:8.1f} ms  {lines:6} lines  {read} leaves read")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system = _system(Path(tmp), args.database_url)
        admin = people.add_user(
            system, None, user_id="boss", name="Boss", roles=["admin"], id_doc="BOSS0001",
            password="bench password 12",  # noqa: S106 - a throwaway bench account
        )  # fmt: skip
        for first in range(0, args.leaves, 1000):
            batch = [_leaf(i) for i in range(first, min(first + 1000, args.leaves))]
            with system.sessions.begin() as session:
                system.ledger.append(session, batch)
        if system.engine.dialect.name == "postgresql":  # as autovacuum would have
            with system.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
                plan = conn.exec_driver_sql(
                    "EXPLAIN SELECT idx, data FROM ledger_leaves WHERE kind IN "
                    "('segment_sealed', 'access') AND idx < 90000 ORDER BY idx DESC LIMIT 500"
                )
                print("\n".join(r[0] for r in plan))
        print(f"{args.leaves} leaves ({system.engine.dialect.name})")
        q = audit.Query
        _timed("newest page, folded", lambda: register.page(system, admin, q(), limit=500))
        _timed("the same again (warm)", lambda: register.page(system, admin, q(), limit=500))
        _timed(
            "newest page, every leaf (fold=0)",
            lambda: register.page(system, admin, q(), limit=500, fold=False),
        )
        _timed("action=view", lambda: register.page(system, admin, q(action="view"), limit=500))
        _timed(
            "action=approve (rare)",
            lambda: register.page(system, admin, q(action="approve"), limit=500),
        )
        _timed(
            "request=1 (oldest: past the scan bound)",
            lambda: register.page(system, admin, q(request=1), limit=500),
        )
        _timed("whole register decoded (audit.log, the CSV)", lambda: audit.log(system, admin))
        system.close()


if __name__ == "__main__":
    main()
