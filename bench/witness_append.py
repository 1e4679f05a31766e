"""Witness benchmark, third figure of issue 20 (the first two, cosign round trip and
checkpoints per second one witness sustains, belong to bench/witness.py, the witness's
own): ledger appends per second with two witnesses configured, as a ratio to none, in
the same run (goal >= 0.95x).

Two deployments (SQLite, WAL, synchronous FULL) append the same one-leaf transactions (a
seal appends one leaf), taking turns a round each so a busy spell on a shared host slows
both alike; one runs the background witness submitter (``services/witnessing.py``,
interval ``--interval`` seconds) against two witnesses in another process. The witnesses
are the spec-following double of the tests (tests/ledger/witness_double.py), standing in
for ``oversight witness serve`` until it is merged.

Usage: python bench/witness_append.py [--leaves N] [--rounds N] [--interval S]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.ledger.witness_double

from oversight import bootstrap  # noqa: E402 - after the path
from oversight.config import Settings  # noqa: E402
from oversight.ledger import leaves  # noqa: E402
from oversight.services import witnessing  # noqa: E402

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


def serve_witnesses(log_vkey: str, origin: str) -> None:
    """Child process: two witnesses on 127.0.0.1; prints OVERSIGHT_WITNESSES, waits."""
    from tests.ledger.witness_double import WitnessDouble

    doubles = [WitnessDouble(f"w{i}.bench/witness", log_vkey, origin).start() for i in (1, 2)]
    print(",".join(d.config for d in doubles), flush=True)
    sys.stdin.read()  # until the parent closes our stdin


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
    parser.add_argument("--serve", nargs=2, metavar=("LOG_VKEY", "ORIGIN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_witnesses(*args.serve)
        return
    os.environ["OVERSIGHT_WITNESS_INTERVAL_S"] = str(args.interval)
    with tempfile.TemporaryDirectory() as tmp:
        witnessed_dir = Path(tmp) / "witnessed"
        with closing(_system(witnessed_dir)) as first:
            vkey = first.ledger.signer().verifier().encode()  # type: ignore[attr-defined]
            origin = first.ledger.origin
        child = subprocess.Popen(  # this very script, as the witnesses
            [sys.executable, __file__, "--serve", vkey, origin],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert child.stdout is not None and child.stdin is not None
        config = child.stdout.readline().strip()
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
            child.stdin.close()
            child.wait(10)
    ratio = statistics.median(ours) / statistics.median(base)
    print(
        f"ledger append with 2 witnesses: {statistics.median(ours):.0f} leaves/s "
        f"({ratio:.2f}x vs {statistics.median(base):.0f} leaves/s with none; goal >= 0.95x; "
        f"submitter every {args.interval:g} s, witnesses cosigned sizes {cosigned})"
    )


if __name__ == "__main__":
    main()
