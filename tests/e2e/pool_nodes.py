"""Recorder pool nodes as real processes (`oversight record --node`), sharing one data
dir (so one local store, as a pool on one machine does) and one PostgreSQL schema."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from oversight import bootstrap


@dataclass
class Node:
    name: str
    log: Path
    capacity: int = 6
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, *extra: str) -> Node:
        argv = [
            sys.executable, "-m", "oversight.cli.main", "record", "--node", self.name,
            "--capacity", str(self.capacity), "--segment-seconds", "2", *extra,
        ]  # fmt: skip
        with self.log.open("ab") as out:
            # its own process group: kill -9 takes its ffmpeg with it, as a power cut does
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=out, start_new_session=True, env=dict(os.environ)
            )
        return self

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM: seal, let the cameras go, exit."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait()
            raise

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGKILL)
            self.process.wait()


def holders(system: bootstrap.System, copy: int = 0) -> dict[str, tuple[str | None, int]]:
    """camera -> (node holding a live lease of its ``copy`` or None, epoch)."""
    with system.reads() as s:
        rows = s.execute(
            text(
                "SELECT camera_id, CASE WHEN released IS NULL AND expires_at > now() THEN node "
                "END AS node, epoch FROM camera_leases WHERE copy = :k"
            ),
            {"k": copy},
        ).all()
    return {r.camera_id: (r.node, int(r.epoch)) for r in rows}


def first_segment_by(system: bootstrap.System, camera: str, node: str) -> int | None:
    """seq of the first segment ``node`` sealed of ``camera`` as the lease holder."""
    seqs = segments_by(system, camera, node)
    return seqs[0] if seqs else None


def segments_by(system: bootstrap.System, camera: str, node: str) -> list[int]:
    """seq of each segment ``node`` sealed of ``camera`` as the lease holder."""
    with system.reads() as s:
        seqs = s.execute(
            text(
                "SELECT seq FROM segments WHERE camera_id = :c AND node = :n AND NOT late "
                "ORDER BY seq"
            ),
            {"c": camera, "n": node},
        ).scalars()
        return [int(seq) for seq in seqs]
