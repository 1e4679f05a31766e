"""Recorder pool benchmarks (issue 21), each printed against a baseline measured in the
same run; nothing is asserted.

1. Failover: three real ``oversight record --node`` processes share --cameras simulated
   RTSP cameras (one ``oversight simulate`` process) on one PostgreSQL schema and one
   data dir. Each round kill -9s the process group of a node holding cameras and times,
   from the kill, the new owner's first sealed segment (not late) of each of its cameras;
   then restarts it and waits until every camera records again. p50 and max over
   --kills; the baseline is the configured bound, lease TTL + claim interval (the new
   owner's first segment adds up to a segment length, --segment-seconds, on top).
2. Lease renewal: one in-process :func:`pool.cycle` (heartbeat + renew, nothing to
   claim) of a node holding K cameras (--renew, e.g. 10,100,1000 lease rows), per
   camera, against a bare ``SELECT 1`` round trip on the same engine; then of a node
   holding HELD of TOTAL cameras (--renew-among, default 125:10000: the others copied
   straight into the table), as a node of a 10,000-camera pool would.
3. Sealing throughput: N processes (--nodes), each a pool node (``pool.join`` then
   ``pool.cycle`` until it holds its --seal-cameras cameras) sealing small distinct files
   with ``sealing.seal_file`` under its ``pool.Fence`` as fast as it can for
   --seal-seconds (renewing every claim interval meanwhile), against one such process
   alone. Every seal takes the ledger's advisory lock, so this measures its contention
   (issue 21, item 9).
4. CPU per camera: --cpu-cameras simulated cameras recorded for --cpu-window seconds by
   plain ``oversight record`` and then by one ``oversight record --node`` (PostgreSQL for
   both, the same cameras), each process tree sampled from /proc as bench/recorder.py
   does (its helpers are imported), once every ffmpeg runs.

PostgreSQL: OVERSIGHT_TEST_PG_URL or OVERSIGHT_DATABASE_URL (``scripts/with-postgres.sh
python bench/pool.py`` starts a throwaway cluster; note it runs with fsync=off). Each
benchmark makes its own schema and drops it after.

Usage: python bench/pool.py [--kills N] [--cameras N] [--segment-seconds S]
       [--renew 10,100,1000] [--renew-among HELD:TOTAL] [--nodes N]
       [--seal-cameras C] [--seal-seconds S] [--seal-bytes B]
       [--cpu-cameras M] [--cpu-window S] [--only failover,renewal,sealing,cpu]
The defaults take about nine minutes; a quick look (about three):
  scripts/with-postgres.sh python bench/pool.py --kills 3 --renew 10,100 \\
      --seal-seconds 5 --cpu-window 20
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from oversight import bootstrap
from oversight.config import Settings
from oversight.domain import policy
from oversight.services import pool, registry, sealing
from recorder import WARMUP, Simulator, count_children, tree_parts

ACTOR = policy.host("bench")
PY = [sys.executable, "-m", "oversight.cli.main"]
GOAL_FAILOVER_S = 10.0
GOAL_CPU_RATIO = 1.05


# ---- a PostgreSQL schema and a data dir per benchmark --------------------------------


def base_url() -> str:
    url = os.environ.get("OVERSIGHT_TEST_PG_URL") or os.environ.get("OVERSIGHT_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        sys.exit("bench/pool.py needs PostgreSQL: run it under scripts/with-postgres.sh")
    return url


@contextmanager
def deployment_on_pg(tmp: Path, name: str) -> Iterator[Path]:
    """A fresh schema and data dir, set in this process's environment (children inherit
    it); the data dir is yielded, ``oversight init`` already run."""
    base = base_url()
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    data_dir = tmp / name
    os.environ["OVERSIGHT_DATABASE_URL"] = url.render_as_string(hide_password=False)
    os.environ["OVERSIGHT_DATA_DIR"] = str(data_dir)
    try:
        subprocess.run([*PY, "init"], check=True, capture_output=True)
        yield data_dir
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def add_cameras(system: bootstrap.System, first: int, last: int, urls: list[str]) -> None:
    """cam<first>..cam<last> in the registry (and the site they need, once), cam<i>
    streaming from ``urls[(i - 1) % len(urls)]``."""
    if first == 1:
        registry.add_org(system, ACTOR, org_id="bench", name="Bench", kind="police")
        registry.add_site(
            system, ACTOR, site_id="site", name="Site", category="square", owner_id="bench"
        )
    day = system.packs.local_date(system.clock.now()) - timedelta(days=1)
    for i in range(first, last + 1):
        registry.add_camera(
            system, ACTOR, camera_id=f"cam{i}", site_id="site", placement="general",
            coverage="entrance", stream_url=urls[(i - 1) % len(urls)], commissioned=day,
        )  # fmt: skip


def ttl_and_interval() -> tuple[float, float]:
    s = Settings()
    return s.pool_lease_ttl_s, s.pool_claim_interval_s


# ---- 1. failover ---------------------------------------------------------------------


class NodeProc:
    def __init__(self, name: str, capacity: int, segment: int, log: Path) -> None:
        self.name, self.capacity, self.segment, self.log = name, capacity, segment, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [*PY, "record", "--node", self.name, "--capacity", str(self.capacity)]
        argv += ["--segment-seconds", str(self.segment)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
            )

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _holders(system: bootstrap.System) -> dict[str, str | None]:
    with system.reads() as s:
        rows = s.execute(
            text(
                "SELECT camera_id, CASE WHEN released IS NULL AND expires_at > now() "
                "THEN node END AS node FROM camera_leases"
            )
        ).all()
    return {r.camera_id: r.node for r in rows}


def _last_seq(system: bootstrap.System) -> dict[str, int]:
    with system.reads() as s:
        rows = s.execute(text("SELECT camera_id, max(seq) AS seq FROM segments GROUP BY 1")).all()
    return {r.camera_id: int(r.seq) for r in rows}


def _recording_since(
    system: bootstrap.System, since: dict[str, int], cams: list[str], not_by: str | None
) -> dict[str, str]:
    """camera -> node, for those of ``cams`` with a segment after ``since`` sealed (not
    late) by the node holding the lease now, other than ``not_by``."""
    held = _holders(system)
    with system.reads() as s:
        rows = s.execute(
            text(
                "SELECT camera_id, node, max(seq) AS seq FROM segments WHERE NOT late "
                "AND node IS NOT NULL GROUP BY 1, 2"
            )
        ).all()
    out = {}
    for r in rows:
        mine = r.camera_id in cams and r.node == held.get(r.camera_id) and r.node != not_by
        if mine and int(r.seq) > since.get(r.camera_id, 0):
            out[r.camera_id] = r.node
    return out


def _wait(what: str, check: object, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()  # type: ignore[operator]
        if got:
            return got
        time.sleep(0.2)
    sys.exit(f"failover: timed out waiting for {what}")


def bench_failover(tmp: Path, kills: int, cameras: int, segment: int) -> None:
    ttl, interval = ttl_and_interval()
    sim = Simulator(cameras, min(cameras, 2), tmp / "sim-failover.log")
    nodes = [NodeProc(f"n{i}", cameras, segment, tmp / f"n{i}.log") for i in (1, 2, 3)]
    took: list[float] = []
    claimed: dict[tuple[int, str], float] = {}  # (kill, camera) -> s to the new lease
    try:
        with deployment_on_pg(tmp, "failover"):
            system = bootstrap.build(Settings())
            add_cameras(system, 1, cameras, sim.urls)
            cams = [f"cam{i}" for i in range(1, cameras + 1)]
            for node in nodes:
                node.start()
                time.sleep(1.0)  # joins in order, each taking its share
            _wait("every camera recording", lambda: len(_recording_since(system, {}, cams, None))
                  == cameras, 120)  # fmt: skip
            for k in range(kills):
                held = _holders(system)
                counts = {n.name: sum(v == n.name for v in held.values()) for n in nodes}
                turn = {n.name: (i - k) % len(nodes) for i, n in enumerate(nodes)}
                victim = max(nodes, key=lambda n: (counts[n.name], turn[n.name]))
                theirs = sorted(c for c, v in held.items() if v == victim.name)
                since = _last_seq(system)
                killed = time.monotonic()
                victim.kill()
                seen: dict[str, float] = {}
                deadline = killed + 120
                while len(seen) < len(theirs) and time.monotonic() < deadline:
                    now = _recording_since(system, since, theirs, victim.name)
                    for cam in now:
                        seen.setdefault(cam, time.monotonic() - killed)
                    for cam, holder in _holders(system).items():
                        if cam in theirs and holder not in (None, victim.name):
                            claimed.setdefault((k, cam), time.monotonic() - killed)
                    time.sleep(0.1)
                if len(seen) < len(theirs):
                    sys.exit(f"failover: {sorted(set(theirs) - set(seen))} not recording in 120 s")
                took += list(seen.values())
                print(
                    f"  kill {k + 1}: {victim.name} ({len(theirs)} cameras): last camera "
                    f"recording on its new owner after {max(seen.values()):.1f} s",
                    file=sys.stderr,
                )
                victim.start()  # it rejoins; the others let its fair share go to it
                since = _last_seq(system)
                _wait(
                    f"{victim.name} back",
                    lambda v=victim.name, since=since: (
                        v  # type: ignore[misc]
                        in _recording_since(system, since, cams, None).values()
                        and len(_recording_since(system, {}, cams, None)) == cameras
                    ),
                    120,
                )
            system.close()
    finally:
        for node in nodes:
            node.stop()
        sim.stop()
    bound = ttl + interval
    p50, worst = statistics.median(took), max(took)
    claims = list(claimed.values())
    print(
        f"failover lease claim: p50 {statistics.median(claims):.1f} s, max {max(claims):.1f} s "
        f"from the kill to another node's lease (bound {bound:g} s: max/bound "
        f"{max(claims) / bound:.2f}x; polled every 0.1 s)"
    )
    print(
        f"failover: p50 {p50:.1f} s, max {worst:.1f} s over {kills} kills, {len(took)} camera "
        f"moves (bound TTL {ttl:g} s + claim interval {interval:g} s = {bound:g} s: "
        f"max/bound {worst / bound:.2f}x; goal <= {GOAL_FAILOVER_S:g} s; first segment after "
        f"the claim takes up to --segment-seconds {segment})"
    )


# ---- 2. lease renewal --------------------------------------------------------------------


def _median_time(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_renewal(tmp: Path, sizes: list[int], repeats: int, among: tuple[int, int] | None) -> None:
    with deployment_on_pg(tmp, "renewal"):
        system = bootstrap.build(Settings())
        pool.join(system, ACTOR, name="r1", capacity=max(sizes), host="bench", pid=os.getpid(),
                  version="bench")  # fmt: skip
        have = 0
        first: tuple[int, float] | None = None
        for k in sorted(sizes):
            add_cameras(system, have + 1, k, ["rtsp://127.0.0.1:9/none"])
            have = k
            got = pool.cycle(system, "r1", max(sizes))  # claims the new ones
            assert len(got.held) == k, (len(got.held), k)

            def select1() -> None:
                with system.engine.connect() as conn:
                    conn.execute(text("SELECT 1")).scalar()

            def renew(k: int = k) -> None:
                got = pool.cycle(system, "r1", max(sizes))
                assert len(got.held) == k and not got.gained

            base = _median_time(select1, repeats * 5)
            took = _median_time(renew, repeats)
            marginal = ""
            if first is None:
                first = (k, took)
            else:
                extra = (took - first[1]) / (k - first[0]) * 1e6
                marginal = f", {extra:.1f} us per camera beyond {first[0]}"
            print(
                f"lease renewal, node holding {k} cameras: cycle {took * 1e3:.2f} ms, "
                f"{took / k * 1e6:.1f} us/camera{marginal} ({took / base:.1f}x a SELECT 1 "
                f"round trip of {base * 1e3:.3f} ms; median of {repeats})"
            )
        if among:
            held, total = among
            _bulk_cameras(system, total - max(sizes))
            pool.join(system, ACTOR, name="r2", capacity=held, host="bench", pid=os.getpid(),
                      version="bench")  # fmt: skip
            got = pool.cycle(system, "r2", held)
            assert len(got.held) == held, len(got.held)

            def renew_among() -> None:
                got = pool.cycle(system, "r2", held)
                assert len(got.held) == held and not got.gained

            took = _median_time(renew_among, repeats)
            print(
                f"lease renewal, node holding {held} of {total} cameras: cycle "
                f"{took * 1e3:.2f} ms, {took / held * 1e6:.1f} us/camera it holds (every "
                f"cycle also makes sure each camera has a lease row: a scan of all {total})"
            )
        system.close()


def _bulk_cameras(system: bootstrap.System, n: int) -> None:
    """``n`` more cameras, copies of cam1 written straight into the table (no registry
    leaves: only the lease cycle's cost over many cameras is measured with them)."""
    with system.sessions.begin() as s:
        s.execute(
            text(
                "INSERT INTO cameras SELECT (jsonb_populate_record(NULL::cameras, to_jsonb(c) "
                "|| jsonb_build_object('id', 'bulk' || g))).* FROM cameras c, "
                "generate_series(1, :n) g WHERE c.id = 'cam1'"
            ),
            {"n": n},
        )


# ---- 3. sealing throughput ----------------------------------------------------------------


def sealer(node: str, first: int, count: int, seconds: float, size: int) -> None:
    """A child: join as ``node``, claim cam<first>..cam<first+count-1>, print "ready",
    wait for a line on stdin, seal for ``seconds``, print the seal count as JSON."""
    system = bootstrap.build(Settings())
    interval = system.settings.pool_claim_interval_s
    pool.join(system, ACTOR, name=node, capacity=count, host="bench", pid=os.getpid(),
              version="bench")  # fmt: skip
    held = pool.cycle(system, node, count).held
    while len(held) < count:
        time.sleep(0.2)
        held = pool.cycle(system, node, count).held
    fences = {c: pool.Fence(node, lease.epoch) for c, lease in held.items()}
    work = Path(tempfile.mkdtemp(prefix=f"seal-{node}-"))
    print("ready", flush=True)
    sys.stdin.readline()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cams = sorted(fences)
    sealed = 0
    renewed = began = time.monotonic()
    while time.monotonic() - began < seconds:
        cam = cams[sealed % len(cams)]
        f = work / f"{sealed}.mp4"
        f.write_bytes(os.urandom(size))
        at = start + timedelta(seconds=sealed)
        sealing.seal_file(system, camera=cam, path=f, start=at,
                                end=at + timedelta(seconds=1), fence=fences[cam])  # fmt: skip
        f.unlink()
        sealed += 1
        if time.monotonic() - renewed > interval:
            pool.cycle(system, node, count)
            renewed = time.monotonic()
    took = time.monotonic() - began
    print(json.dumps({"sealed": sealed, "seconds": took}), flush=True)
    system.close()


def _row_writes(system: bootstrap.System) -> tuple[int, int]:
    """(rows inserted, rows updated) in this schema so far, from pg_stat_user_tables
    (what the backends have flushed to it: exited ones have flushed everything)."""
    with system.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT coalesce(sum(n_tup_ins), 0) AS ins, coalesce(sum(n_tup_upd), 0) AS upd "
                "FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            )
        ).one()
    return int(row.ins), int(row.upd)


def _seal_run(
    tmp: Path, n: int, per_node: int, seconds: float, size: int
) -> tuple[float, int, tuple[float, float]]:
    """(segments/s all nodes together, late seals, (rows inserted, updated) per seal)
    for ``n`` sealer processes."""
    with deployment_on_pg(tmp, f"seal{n}"):
        system = bootstrap.build(Settings())
        add_cameras(system, 1, n * per_node, ["rtsp://127.0.0.1:9/none"])
        system.close()
        procs = []
        for i in range(n):
            argv = [sys.executable, __file__, "_sealer", f"s{i + 1}", str(i * per_node + 1),
                    str(per_node), str(seconds), str(size)]  # fmt: skip
            procs.append(
                subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            )
            assert procs[-1].stdout is not None
            if procs[-1].stdout.readline().strip() != "ready":  # joined one after another
                sys.exit("sealing: a sealer did not start")
        time.sleep(1.5)  # the stats of the setup flushed (at most once a second)
        system = bootstrap.build(Settings())
        before = _row_writes(system)
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        total, seals = 0.0, 0
        for p in procs:
            assert p.stdout is not None
            result = json.loads(p.stdout.readline())
            p.wait(60)
            total += result["sealed"] / result["seconds"]
            seals += result["sealed"]
        time.sleep(1.0)
        after = _row_writes(system)
        with system.reads() as s:
            late = int(s.execute(text("SELECT count(*) FROM segments WHERE late")).scalar_one())
        system.close()
    per_seal = ((after[0] - before[0]) / seals, (after[1] - before[1]) / seals)
    return total, late, per_seal


def bench_sealing(tmp: Path, nodes: int, per_node: int, seconds: float, size: int) -> None:
    one, late1, rows = _seal_run(tmp, 1, per_node, seconds, size)
    many, late_n, _ = _seal_run(tmp, nodes, per_node, seconds, size)
    print(
        f"sealing throughput: {nodes} nodes {many:.0f} segments/s together, 1 node "
        f"{one:.0f} segments/s ({many / one:.2f}x; {per_node} cameras per node, "
        f"{size // 1024} KiB files, {seconds:g} s; late seals {late1 + late_n}; "
        f"{os.cpu_count()} cores shared by nodes and PostgreSQL)"
    )
    print(
        f"rows written per seal: {rows[0]:.1f} inserted, {rows[1]:.1f} updated "
        f"(pg_stat_user_tables over the 1-node run, lease renewals included)"
    )


# ---- 4. CPU per camera ----------------------------------------------------------------------


def _cpu_window(argv: list[str], cams: int, warm_timeout: float, window: float, log: Path) -> float:
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + warm_timeout
        while count_children(proc.pid, "ffmpeg") < cams:
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit(f"cpu: {count_children(proc.pid, 'ffmpeg')} of {cams} ffmpeg; see {log}")
            time.sleep(0.5)
        time.sleep(WARMUP)
        before = sum(tree_parts(proc.pid))
        time.sleep(window)
        used = sum(tree_parts(proc.pid)) - before
        if count_children(proc.pid, "ffmpeg") < cams:
            sys.exit(f"cpu: an ffmpeg of {argv[-1]} stopped in the window; see {log}")
        return used
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def bench_cpu(tmp: Path, cams: int, window: float, segment: int, rounds: int) -> None:
    sim = Simulator(cams, min(cams, 4), tmp / "sim-cpu.log")
    single: list[float] = []
    pooled: list[float] = []
    try:
        with deployment_on_pg(tmp, "cpu"):
            system = bootstrap.build(Settings())
            add_cameras(system, 1, cams, sim.urls)
            system.close()
            rec = [*PY, "record", "--segment-seconds", str(segment)]
            for r in range(rounds):  # taking turns, so a busy spell slows both alike
                single.append(_cpu_window(rec, cams, 60, window, tmp / "cpu-single.log"))
                node = [*rec, "--node", f"c{r}", "--capacity", str(cams)]
                pooled.append(_cpu_window(node, cams, 60, window, tmp / "cpu-node.log"))
    finally:
        sim.stop()
    s, p = statistics.median(single), statistics.median(pooled)
    per = 100 / (window * cams)
    print(
        f"cpu per camera: pool node {p * per:.2f}% of a core, single recorder "
        f"{s * per:.2f}% ({p / s:.3f}x; efficiency {s / p:.2f}, goal >= 0.95, i.e. "
        f"<= {GOAL_CPU_RATIO:.2f}x; {cams} cameras, {window:g} s window x {rounds}, "
        f"{segment} s segments)"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_sealer":
        a = sys.argv[2:]
        sealer(a[0], int(a[1]), int(a[2]), float(a[3]), int(a[4]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--cameras", type=int, default=6)
    parser.add_argument("--segment-seconds", type=int, default=2)
    parser.add_argument("--renew", default="10,100,1000")
    parser.add_argument("--renew-repeats", type=int, default=20)
    parser.add_argument("--renew-among", default="125:10000", help="HELD:TOTAL, or ''")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--seal-cameras", type=int, default=4)
    parser.add_argument("--seal-seconds", type=float, default=20)
    parser.add_argument("--seal-bytes", type=int, default=64 << 10)
    parser.add_argument("--cpu-cameras", type=int, default=8)
    parser.add_argument("--cpu-window", type=float, default=40)
    parser.add_argument("--cpu-segment-seconds", type=int, default=10)
    parser.add_argument("--cpu-rounds", type=int, default=2)
    parser.add_argument("--only", default="failover,renewal,sealing,cpu")
    args = parser.parse_args()
    only = set(args.only.split(","))
    base_url()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        if "renewal" in only:
            sizes = [int(x) for x in args.renew.split(",")]
            among = None
            if args.renew_among:
                held, total = (int(x) for x in args.renew_among.split(":"))
                among = (held, total)
            bench_renewal(tmp, sizes, args.renew_repeats, among)
        if "sealing" in only:
            bench_sealing(tmp, args.nodes, args.seal_cameras, args.seal_seconds, args.seal_bytes)
        if "failover" in only:
            bench_failover(tmp, args.kills, args.cameras, args.segment_seconds)
        if "cpu" in only:
            bench_cpu(tmp, args.cpu_cameras, args.cpu_window, args.cpu_segment_seconds,
                      args.cpu_rounds)  # fmt: skip


if __name__ == "__main__":
    main()
