"""Recorder benchmarks (issue 4), each printed against its baseline, measured in one run.

1. CPU: Oversight recording N simulated cameras (``python -m oversight.cli.main record``:
   its Python process plus every ffmpeg/ffprobe it runs) against N bare
   ``ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time S`` processes
   reading the same streams (S: --cpu-segment-seconds, default 60 as ``oversight
   record``). Both are sampled over the same wall-clock window once every process is
   recording (steady state), from /proc/<pid>/stat of each process
   tree: utime+stime of the live processes plus cutime+cstime of those reaped. The
   recorder's whole run (startup probes and the final sealing too) is printed beside,
   and so is the floor under the ratio: SHA-256 of every byte, measured in the run.
2. Capacity: the largest N of a sweep that records for --seconds with no gap, no
   quarantined segment, nothing left in the spool, every camera covered but for the
   startup allowance, and sealing lag (the ``segment_sealed`` leaf's time minus the
   segment's end) under one segment length. The sweep stops at the first N that fails.
   Its segments are --segment-seconds long (default 10: six times the sealing rate of
   the default length, and a lag limit six times as strict).

The simulated cameras are one separate ``oversight simulate`` process with a few shared
encoders; its CPU over each measurement is printed beside, never counted in either side.
Cameras sharing an encoder get keyframes, and so segment ends, at the same moments: the
sealer sees bursts of N/K segments at once, harsher than cameras with random phases.

Usage: python bench/recorder.py [--cameras N] [--window S] [--seconds S]
       [--sweep 25,50,100,125,150] [--max-cameras N] [--segment-seconds S]
       [--cpu-segment-seconds S] [--encoders K]
The defaults (a 120 s CPU window, 300 s per sweep step) take about forty minutes;
``--seconds 30 --max-cameras 25`` gives a quick look.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from oversight import bootstrap
from oversight.cli.main import app
from oversight.config import Settings
from oversight.domain import policy
from oversight.ledger.leaves import decode
from oversight.services import recording

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
WARMUP = 5.0  # seconds after every ffmpeg runs before a window opens
TARGET_RATIO = 1.10
TARGET_CAMERAS = 100


# ---- CPU accounting -----------------------------------------------------------------


def _proc_stats() -> dict[int, tuple[int, float, float]]:
    """pid -> (ppid, own CPU s, CPU s of its reaped children), for every process."""
    stats = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
        utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
        stats[int(entry.name)] = (
            int(fields[1]),
            (utime + stime) / CLOCK_TICKS,
            (cutime + cstime) / CLOCK_TICKS,
        )
    return stats


def tree_parts(*roots: int) -> tuple[float, float, float]:
    """CPU seconds used so far by ``roots`` themselves, by their live descendants, and by
    the descendants already reaped (short ffprobe runs, restarted ffmpeg)."""
    stats = _proc_stats()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _, _) in stats.items():
        children[ppid].append(pid)
    own = live = reaped = 0.0
    todo = [r for r in roots if r in stats]
    while todo:
        pid = todo.pop()
        if pid in roots:
            own += stats[pid][1]
        else:
            live += stats[pid][1]
        reaped += stats[pid][2]
        todo += children[pid]
    return own, live, reaped


def tree_cpu(*roots: int) -> float:
    """CPU seconds used so far by ``roots`` and all their descendants, alive or reaped."""
    return sum(tree_parts(*roots))


def children_cpu() -> float:
    """CPU seconds of every child this process has waited for (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def count_children(pid: int, name: str) -> int:
    found = 0
    for ppid_pid in _proc_stats().items():
        child, (ppid, _, _) = ppid_pid
        if ppid == pid:
            try:
                found += Path(f"/proc/{child}/comm").read_text().strip() == name
            except OSError:
                continue
    return found


# ---- the simulator and the recorder as processes ---------------------------------------


class Simulator:
    """``oversight simulate`` as its own process (and session), serving cam1..camN."""

    def __init__(self, cameras: int, encoders: int, log: Path) -> None:
        argv = [sys.executable, "-m", "oversight.cli.main", "simulate", "--cameras"]
        argv += [str(cameras), "--encoders", str(encoders), "--port", "0", "--json"]
        with log.open("w") as err:
            self.proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True
            )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            sys.exit(f"the simulator did not start; see {log}")
        self.urls = [camera["url"] for camera in json.loads(line)["cameras"]]
        self.encoders = encoders

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def cli(data_dir: Path, *args: str) -> None:
    """An ``oversight`` command, in this process (the same code as the CLI, no startup)."""
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), *args])
    if result.exit_code != 0:
        sys.exit(f"oversight {' '.join(args[:2])}: exit {result.exit_code}: {result.output}")


def deployment(data_dir: Path, urls: list[str]) -> None:
    """A fresh data dir with one camera per URL, registered through the CLI."""
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    cli(data_dir, "init")
    cli(data_dir, "orgs", "add", "--id", "bench", "--name", "Bench", "--kind", "police")
    cli(data_dir, "sites", "add", "--id", "site", "--name", "Site", "--category", "square",
        "--owner", "bench")  # fmt: skip
    camera = ["--site", "site", "--placement", "general", "--coverage", "entrance"]
    for i, url in enumerate(urls, start=1):
        cli(data_dir, "cameras", "add", "--id", f"cam{i}", *camera, "--stream", url,
            "--commissioned", yesterday)  # fmt: skip


def recorder(data_dir: Path, segment: int, duration: float, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "oversight.cli.main", "--data-dir", str(data_dir), "record"]
    argv += ["--segment-seconds", str(segment), "--duration", str(duration)]
    with log.open("wb") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def wait_for_children(pid: int, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while count_children(pid, "ffmpeg") < count:
        if time.monotonic() > deadline:
            sys.exit(f"the recorder runs {count_children(pid, 'ffmpeg')} of {count} ffmpeg")
        time.sleep(0.5)


# ---- 1. CPU against bare ffmpeg ---------------------------------------------------------


def window(roots: list[int], sim: Simulator, seconds: float) -> tuple[tuple[float, ...], float]:
    """(CPU s of ``roots``' trees as :func:`tree_parts`, CPU s of the simulator) over
    ``seconds`` from now."""
    ours, theirs = tree_parts(*roots), tree_cpu(sim.pid)
    time.sleep(seconds)
    after = tree_parts(*roots)
    return tuple(b - a for a, b in zip(ours, after, strict=True)), tree_cpu(sim.pid) - theirs


def sha256_rate() -> float:
    """Bytes per second this machine's SHA-256 (hashlib, as the sealer uses) hashes."""
    block = os.urandom(8 << 20)
    best = 0.0
    for _ in range(3):
        started = time.process_time()
        hashlib.sha256(block).digest()
        best = max(best, len(block) / max(time.process_time() - started, 1e-9))
    return best


def bench_cpu(sim: Simulator, n: int, seconds: float, segment: int, tmp: Path) -> None:
    urls = sim.urls[:n]
    bare: list[subprocess.Popen[bytes]] = []
    for i, url in enumerate(urls, start=1):
        out = tmp / "bare" / f"cam{i}"
        out.mkdir(parents=True)
        argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"]
        argv += ["-rtsp_transport", "tcp", "-i", url, "-c", "copy", "-f", "segment"]
        argv += ["-segment_time", str(segment), str(out / "%08d.mp4")]
        bare.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(WARMUP)
    base_parts, sim_base = window([p.pid for p in bare], sim, seconds)
    base = sum(base_parts)
    alive = sum(p.poll() is None for p in bare)
    for p in bare:
        p.terminate()
    for p in bare:
        p.wait(30)
    shutil.rmtree(tmp / "bare")
    if alive < n:
        sys.exit(f"only {alive} of {n} bare ffmpeg lasted the window")

    data = tmp / "var-cpu"
    deployment(data, urls)
    before = children_cpu()
    started = time.monotonic()
    rec = recorder(data, segment, 24 * 3600, tmp / "record-cpu.log")
    wait_for_children(rec.pid, n, 120)
    time.sleep(WARMUP)
    parts, sim_ours = window([rec.pid], sim, seconds)
    ours = sum(parts)
    running = count_children(rec.pid, "ffmpeg")
    rec.send_signal(signal.SIGTERM)  # a clean stop: the open segments are sealed
    code = rec.wait(120)
    whole, wall = children_cpu() - before, time.monotonic() - started
    footage = summarize(data, n, segment, seconds=0)
    shutil.rmtree(data)
    ratio = ours / base
    # Every sealed byte is hashed (the ledger leaf carries its SHA-256): that CPU alone,
    # at the footage's bitrate, is a floor under the ratio no recorder that seals can go
    # below on this machine.
    rate = footage.bytes / footage.seconds * n if footage.seconds else 0.0  # bytes/s
    sha = sha256_rate()
    hash_cores = rate / sha
    floor = (base / seconds + hash_cores) / (base / seconds)
    print(
        f"recorder CPU, {n} cameras, {segment} s segments: {ours / seconds:.3f} cores over "
        f"{seconds:.0f} s ({ratio:.2f}x vs {n} bare ffmpeg -c copy -f segment at "
        f"{base / seconds:.3f} cores; target <= {TARGET_RATIO:.2f}x"
        f"{'' if ratio <= TARGET_RATIO else ': MISSED'}); simulator beside, not counted: "
        f"{sim_ours / seconds:.3f} cores ({sim.encoders} shared encoders; "
        f"{sim_base / seconds:.3f} cores while the bare ffmpeg read it)"
    )
    print(
        f"recorder CPU, the floor: hashing the footage ({rate * 8 / n / 1e6:.2f} Mbit/s a "
        f"camera) with SHA-256 at {sha / 1e6:.0f} MB/s costs {hash_cores:.3f} cores "
        f"alone, so no recorder that hashes every byte gets below {floor:.2f}x here"
    )
    python, ffmpeg, reaped = (part / seconds for part in parts)
    print(
        f"recorder CPU, where it went: recorder Python {python:.3f} cores, its ffmpeg "
        f"{ffmpeg:.3f} cores ({ffmpeg / (base / seconds):.2f}x vs the bare ffmpeg), exited "
        f"children (ffprobe of each segment and source) {reaped:.3f} cores"
    )
    print(
        f"recorder CPU, whole run: {whole:.1f} CPU s in {wall:.0f} s wall incl. startup probes "
        f"and final sealing (exit {code}, {running} of {n} ffmpeg running in the window, "
        f"{footage.segments} segments, {footage.gaps} gaps, {footage.quarantined} quarantined)"
    )


# ---- 2. capacity ------------------------------------------------------------------------


@dataclass
class Footage:
    segments: int
    bytes: int  # of every sealed segment
    seconds: float  # of footage, all cameras together
    gaps: int
    quarantined: int
    left_in_spool: int
    cameras_recorded: int
    min_covered: float  # seconds of footage of the least covered camera
    lag_p50: float
    lag_max: float


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def summarize(data_dir: Path, n: int, segment: int, seconds: float) -> Footage:
    """What a run left in its data dir: the index, the ledger's seal times, the spool."""
    system = bootstrap.build(Settings(data_dir=data_dir))
    try:
        segments = recording.list_segments(system, policy.SYSTEM)
        gaps = recording.list_gaps(system, policy.SYSTEM)
        quarantined = recording.list_quarantined(system)
        lags = []
        with system.sessions() as session:
            for seg in segments:
                leaf = decode(system.ledger.leaf(session, seg.leaf_index).data)
                lags.append((_instant(leaf["at"]) - _instant(leaf["end"])).total_seconds())
    finally:
        system.close()
    covered: defaultdict[str, float] = defaultdict(float)
    for seg in segments:
        covered[seg.camera] += (seg.end - seg.start).total_seconds()
    spool = data_dir / "spool"
    left = sum(1 for p in spool.rglob("*") if p.is_file()) if spool.exists() else 0
    return Footage(
        len(segments),
        sum(seg.size for seg in segments),
        sum(covered.values()),
        len(gaps),
        len(quarantined),
        left,
        len(covered),
        min(covered.get(f"cam{i}", 0.0) for i in range(1, n + 1)),
        statistics.median(lags) if lags else 0.0,
        max(lags, default=0.0),
    )


def capacity_step(
    sim: Simulator, n: int, seconds: float, segment: int, allowance: float, tmp: Path
) -> bool:
    data = tmp / f"var-{n}"
    deployment(data, sim.urls[:n])
    before, sim_before, started = children_cpu(), tree_cpu(sim.pid), time.monotonic()
    rec = recorder(data, segment, seconds, tmp / f"record-{n}.log")
    code = rec.wait(seconds + 900)
    wall = time.monotonic() - started
    cpu, sim_cpu = children_cpu() - before, tree_cpu(sim.pid) - sim_before
    f = summarize(data, n, segment, seconds)
    shutil.rmtree(data)
    problems = [
        f"exit {code}" if code else "",
        f"{f.gaps} gaps" if f.gaps else "",
        f"{f.quarantined} quarantined" if f.quarantined else "",
        f"{f.left_in_spool} files left in the spool" if f.left_in_spool else "",
        f"{n - f.cameras_recorded} cameras without footage" if f.cameras_recorded < n else "",
        f"a camera has {f.min_covered:.0f} s of footage only"
        if f.min_covered < seconds - allowance else "",
        f"sealing lag {f.lag_max:.1f} s >= {segment} s" if f.lag_max >= segment else "",
    ]  # fmt: skip
    problems = [p for p in problems if p]
    print(
        f"  {n} cameras x {seconds:.0f} s, {segment} s segments: "
        f"{'ok' if not problems else 'FAILED: ' + '; '.join(problems)} | {f.segments} segments, "
        f"least covered camera {f.min_covered:.0f} s, sealing lag median {f.lag_p50:.2f} s "
        f"max {f.lag_max:.2f} s; recorder {cpu / wall:.2f} cores, simulator beside "
        f"{sim_cpu / wall:.2f} cores (of {CORES})",
        flush=True,
    )
    return not problems


def bench_capacity(
    sim: Simulator, sweep: list[int], seconds: float, segment: int, allowance: float, tmp: Path
) -> None:
    best = 0
    for n in sweep:
        if not capacity_step(sim, n, seconds, segment, allowance, tmp):
            break
        best = n
    print(
        f"recorder capacity: {best} cameras recorded for {seconds:.0f} s with no lost or "
        f"quarantined segment and sealing lag < {segment} s, sweep {','.join(map(str, sweep))} "
        f"on {CORES} cores ({best / TARGET_CAMERAS:.2f}x vs the target of {TARGET_CAMERAS})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", type=int, default=10, help="cameras in the CPU comparison")
    parser.add_argument("--window", type=float, help="CPU window, s (default min(120, --seconds))")
    parser.add_argument("--seconds", type=float, default=300, help="length of each capacity run")
    parser.add_argument(
        "--sweep", default="25,50,100,125,150", help="camera counts to try, in order"
    )
    parser.add_argument("--max-cameras", type=int, help="skip sweep steps above this")
    parser.add_argument(
        "--segment-seconds", type=int, default=10, help="in the capacity sweep (harsher than 60)"
    )
    parser.add_argument(
        "--cpu-segment-seconds", type=int, default=60, help="in the CPU comparison (the default)"
    )
    parser.add_argument("--encoders", type=int, default=4, help="the simulator's shared encoders")
    parser.add_argument(
        "--startup-allowance", type=float, default=20, help="footage a camera may miss, s"
    )
    args = parser.parse_args()
    sweep = [int(n) for n in args.sweep.split(",") if n.strip()]
    sweep = [n for n in sweep if args.max_cameras is None or n <= args.max_cameras]
    cameras = max([args.cameras, *sweep])
    window_s = args.window or min(120.0, args.seconds)
    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as tmp_dir:
        tmp = Path(tmp_dir)
        sim = Simulator(cameras, min(args.encoders, cameras), tmp / "simulate.log")
        try:
            bench_cpu(sim, args.cameras, window_s, args.cpu_segment_seconds, tmp)
            bench_capacity(
                sim, sweep, args.seconds, args.segment_seconds, args.startup_allowance, tmp
            )
        finally:
            sim.stop()


if __name__ == "__main__":
    main()
