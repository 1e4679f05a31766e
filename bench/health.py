"""Health monitor latency, against the stream's own keyframe interval as the baseline.

A switchable simulated camera (real RTSP on 127.0.0.1) is watched by the monitor; it is
covered and uncovered N times, and its stream is finally dropped. Printed: the seconds
from covering to the open *covered* alarm (issue 8 asks for at most 10 s), from
uncovering to its clearing, and from the drop to *offline*, each as a ratio of the
keyframe interval (2 s: the monitor can only see a new picture at a keyframe).

Usage: python bench/health.py [--covers N] [--offline-after S]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from oversight import bootstrap
from oversight.config import Settings
from oversight.domain import policy
from oversight.health.monitor import Monitor, MonitorOptions
from oversight.services import alarms
from oversight.sim.cameras import EncoderSpec, SimulatedCameraSet

GOP_S = 2.0  # the simulator's keyframe interval


def _deployment(data_dir: Path, url: str) -> bootstrap.System:
    os.environ["OVERSIGHT_DATA_DIR"] = str(data_dir)
    os.environ.pop("OVERSIGHT_DATABASE_URL", None)
    for args in (
        ["init"],
        ["orgs", "add", "--id", "o", "--name", "O", "--kind", "owner"],
        ["sites", "add", "--id", "s", "--name", "S", "--category", "school", "--owner", "o"],
        ["cameras", "add", "--id", "cam1", "--site", "s", "--placement", "general",
         "--coverage", "entrance", "--stream", url, "--commissioned", "2026-01-01"],
    ):  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "oversight.cli.main", *args], check=True, capture_output=True
        )
    return bootstrap.build(Settings())


def _until(check: Callable[[], bool], timeout: float = 60.0) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise SystemExit("timed out: the monitor did not react")
        time.sleep(0.05)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--covers", type=int, default=5)
    parser.add_argument("--offline-after", type=float, default=5.0)
    args = parser.parse_args()
    spec = EncoderSpec(320, 180, 10, switchable=True)
    with tempfile.TemporaryDirectory() as tmp, SimulatedCameraSet(1, encoders=[spec]) as cams:
        system = _deployment(Path(tmp), cams.urls[0])
        monitor = Monitor(system, MonitorOptions(offline_after=args.offline_after))
        thread = threading.Thread(target=monitor.run)
        thread.start()
        try:

            def kinds() -> set[str]:
                return {a.kind for a in alarms.list_alarms(system, policy.SYSTEM, open_only=True)}

            _until(lambda: all(w.reference is not None for w in monitor.watches.values())
                   and bool(monitor.watches))  # fmt: skip
            raised, cleared = [], []
            for _ in range(args.covers):
                cams[0].cover()
                raised.append(_until(lambda: "covered" in kinds()))
                cams[0].cover(False)
                cleared.append(_until(lambda: "covered" not in kinds()))
            cams[0].kill()
            offline = _until(lambda: "offline" in kinds())
        finally:
            monitor.stop()
            thread.join()
            system.close()

    def line(what: str, values: list[float]) -> str:
        p50, worst = statistics.median(values), max(values)
        return (
            f"{what}: median {p50:.1f} s, max {worst:.1f} s over {len(values)} "
            f"({p50 / GOP_S:.1f}x the {GOP_S:.0f} s keyframe interval)"
        )

    print(line("covered alarm after covering", raised) + "; target at most 10 s")
    print(line("covered alarm cleared after uncovering", cleared))
    print(
        f"offline alarm after the stream dropped: {offline:.1f} s "
        f"(configured limit {args.offline_after:.0f} s; "
        f"{offline / GOP_S:.1f}x the keyframe interval)"
    )


if __name__ == "__main__":
    main()
