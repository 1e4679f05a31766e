"""End to end (issue 21): a recorder pool of real `oversight record --node` processes on
one PostgreSQL, recording simulated cameras over real RTSP with real ffmpeg.

Three nodes share twelve cameras by capacity; kill -9 one and its cameras record on the
others, with `failover` gaps and expiry handovers in the ledger; SIGSTOP one past its
lease (a partition) and it does not take its cameras back, what it sealed meanwhile is
kept as late footage; drain one and its cameras move within seconds. `oversight verify`
is OK after each. Times are bounded generously here; bench/pool.py measures them."""

from __future__ import annotations

import itertools
import json
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from oversight import bootstrap
from oversight.config import Settings
from oversight.ledger import leaves
from oversight.services import recording
from oversight.sim.cameras import SimulatedCameraSet
from oversight.sim.rtsp_relay import RelayThread
from oversight.storage.s3 import ensure_bucket
from tests.actors import HOST
from tests.conftest import Env
from tests.e2e.pool_nodes import Node, first_segment_by, holders
from tests.recorder.helpers import add_camera, needs_ffmpeg, wait_for
from tests.storage.seaweed import SeaweedS3, running_seaweed

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize(
        "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
    ),
]

CAMERAS = 12
_TOLERANCE = timedelta(seconds=1)


@pytest.fixture
def cameras(system: bootstrap.System) -> Iterator[list[str]]:
    with (
        RelayThread() as relay,
        SimulatedCameraSet(CAMERAS, relay=relay, width=160, height=90, fps=10) as cams,
    ):
        ids = []
        for i, url in enumerate(cams.urls, start=1):
            add_camera(system, f"cam{i}", url)
            ids.append(f"cam{i}")
        yield ids


@pytest.fixture
def nodes(env: Env, tmp_path: Path) -> Iterator[dict[str, Node]]:
    made = {name: Node(name, tmp_path / f"{name}.log") for name in ("n1", "n2", "n3")}
    try:
        yield made
    finally:
        for node in made.values():
            node.cleanup()


def _all_recording(system: bootstrap.System, cams: list[str]) -> dict[str, str] | None:
    """camera -> node once every camera is leased and has a segment by its holder."""
    held = holders(system)
    out = {}
    for cam in cams:
        node = held.get(cam, (None, 0))[0]
        if node is None or first_segment_by(system, cam, node) is None:
            return None
        out[cam] = node
    return out


def _handovers(system: bootstrap.System) -> list[dict[str, object]]:
    with system.reads() as s:
        return [
            leaves.decode(leaf.data) for leaf in system.ledger.leaves(s) if leaf.kind == "handover"
        ]


def _verify_ok(env: Env) -> dict[str, object]:
    report = json.loads(env.ok("verify", "--json").output)
    assert report["ok"], report["problems"]
    return report


def test_kill_9_a_node_and_its_cameras_record_elsewhere(
    system: bootstrap.System, env: Env, cameras: list[str], nodes: dict[str, Node]
) -> None:
    for node in nodes.values():
        node.start()
    owners = wait_for("every camera recorded", lambda: _all_recording(system, cameras), 90)
    spread = Counter(owners.values())
    assert sorted(spread.values()) == [4, 4, 4], spread  # 12 over three of capacity 6
    victims = sorted(c for c, n in owners.items() if n == "n1")
    nodes["n1"].kill()
    killed = time.monotonic()

    def moved() -> dict[str, str] | None:
        now = _all_recording(system, cameras)
        if now is None or any(now[c] == "n1" for c in victims):
            return None
        return now

    after = wait_for("n1's cameras recording elsewhere", moved, 60)
    took = time.monotonic() - killed
    assert set(after.values()) == {"n2", "n3"} and Counter(after.values()) == {"n2": 6, "n3": 6}
    for node in ("n2", "n3"):
        assert nodes[node].stop() == 0
    expiries = [h for h in _handovers(system) if h["reason"] == "expiry"]
    assert sorted(str(h["camera"]) for h in expiries) == victims
    assert all(h["from_node"] == "n1" and h["to_node"] in ("n2", "n3") for h in expiries)
    for cam in victims:
        gaps = recording.list_gaps(system, HOST, cam)
        failover = [g for g in gaps if g.reason.startswith("failover: node n1")]
        assert len(failover) == 1, [g.reason for g in gaps]
        assert failover[0].leaf_index is not None  # in the ledger too
        # the gap spans from n1's last footage to the new owner's first
        segs = recording.list_segments(system, HOST, camera=cam)
        first_new = min(
            (s for s in segs if s.start >= failover[0].end - _TOLERANCE), key=lambda s: s.start
        )
        assert abs((first_new.start - failover[0].end).total_seconds()) < 1.0
    _verify_ok(env)
    assert took < 60  # bench/pool.py measures the failover time; this only bounds it


def _two_nodes_recording(
    system: bootstrap.System, cameras: list[str], nodes: dict[str, Node]
) -> list[str]:
    """n1 and n2 recording every camera between them; the cameras n1 records."""
    for name in ("n1", "n2"):  # either can take all twelve when the other is gone
        nodes[name].capacity = CAMERAS
        nodes[name].start()
    owners = wait_for("every camera recorded", lambda: _all_recording(system, cameras), 90)
    return sorted(c for c, n in owners.items() if n == "n1")


def test_a_partitioned_node_does_not_take_its_cameras_back(
    system: bootstrap.System, env: Env, cameras: list[str], nodes: dict[str, Node]
) -> None:
    mine = _two_nodes_recording(system, cameras, nodes)
    nodes["n1"].signal(signal.SIGSTOP)  # a partition: alive, silent, its ffmpeg too

    def taken() -> bool:
        held = holders(system)
        return all(held[c][0] == "n2" and first_segment_by(system, c, "n2") for c in mine)

    wait_for("n2 to take n1's cameras", taken, 60)
    nodes["n1"].signal(signal.SIGCONT)
    time.sleep(6)  # n1 wakes, renews nothing, lets go what it was recording
    held = holders(system)
    assert all(held[c][0] == "n2" for c in cameras)
    for node in ("n1", "n2"):
        assert nodes[node].stop() == 0
    for cam in mine:
        segs = recording.list_segments(system, HOST, camera=cam)
        owned = sorted((s for s in segs if not _late(system, s.seq, cam)), key=lambda s: s.start)
        # no interval has two owners: the holders' segments never overlap
        for prev, nxt in itertools.pairwise(owned):
            assert (nxt.start - prev.end).total_seconds() > -0.5, (cam, prev, nxt)
    _verify_ok(env)


def _late(system: bootstrap.System, seq: int, camera: str) -> bool:
    with system.reads() as s:
        return bool(
            s.execute(
                text("SELECT late FROM segments WHERE camera_id = :c AND seq = :s"),
                {"c": camera, "s": seq},
            ).scalar_one()
        )


def test_drain_moves_every_camera_within_seconds(
    system: bootstrap.System, env: Env, cameras: list[str], nodes: dict[str, Node]
) -> None:
    mine = _two_nodes_recording(system, cameras, nodes)
    env.ok("nodes", "drain", "n1")
    assert nodes["n1"].process is not None
    assert nodes["n1"].process.wait(timeout=60) == 0  # it seals and exits by itself
    wait_for(
        "n2 recording n1's cameras",
        lambda: all(first_segment_by(system, c, "n2") for c in mine),
        30,
    )
    drained = [h for h in _handovers(system) if h["reason"] == "drain"]
    assert sorted(str(h["camera"]) for h in drained) == mine
    shown = {n["name"]: n["state"] for n in json.loads(env.ok("nodes", "list", "--json").output)}
    assert shown == {"n1": "stopped", "n2": "live"}
    assert nodes["n2"].stop() == 0
    for cam in mine:
        segs = recording.list_segments(system, HOST, camera=cam)
        last_n1 = max(s.end for s in segs if s.node == "n1" and not s.late)
        first_n2 = min(s.start for s in segs if s.node == "n2" and s.start >= last_n1 - _TOLERANCE)
        drains = [
            g
            for g in recording.list_gaps(system, HOST, cam)
            # the epoch is 1, or more when the two nodes' start-up rebalanced a camera
            if g.reason.startswith("failover: node n1 (epoch ") and "let it go (drain)" in g.reason
        ]
        if first_n2 > last_n1:  # a hole between the two owners: a gap names the drain
            assert [(g.start, g.end) for g in drains] == [(last_n1, first_n2)], (cam, drains)
        else:  # n2's first frames (the relay's buffered keyframe) reach back: no hole
            assert drains == [], (cam, drains)
    _verify_ok(env)


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.mark.s3
def test_a_pool_on_s3_fails_over_and_verifies(
    env: Env, seaweed: SeaweedS3, nodes: dict[str, Node]
) -> None:
    """Item 7: the pool's footage goes to S3-compatible object storage (SeaweedFS with
    Object Lock); the spool stays local to each node."""
    bucket = f"pool-{uuid.uuid4().hex[:12]}"
    client = seaweed.client()
    try:
        assert ensure_bucket(client, bucket)  # with Object Lock, as docs/storage.md says
    finally:
        client.close()
    env.monkeypatch.setenv("OVERSIGHT_STORE", f"s3://{bucket}/footage")
    env.monkeypatch.setenv("OVERSIGHT_S3_ENDPOINT_URL", seaweed.endpoint_url)
    env.monkeypatch.setenv("OVERSIGHT_S3_ACCESS_KEY_ID", seaweed.access_key_id)
    env.monkeypatch.setenv("OVERSIGHT_S3_SECRET_ACCESS_KEY", seaweed.secret_access_key)
    env.ok("init")
    with (
        closing(bootstrap.build(Settings())) as system,
        RelayThread() as relay,
        SimulatedCameraSet(4, relay=relay, width=160, height=90, fps=10) as cams,
    ):
        ids = [f"cam{i}" for i in range(1, 5)]
        for cam, url in zip(ids, cams.urls, strict=True):
            add_camera(system, cam, url)
        for name in ("n1", "n2"):
            nodes[name].capacity = 4
            nodes[name].start()
        owners = wait_for("every camera recorded", lambda: _all_recording(system, ids), 90)
        victims = [c for c, n in owners.items() if n == "n1"]
        assert victims
        nodes["n1"].kill()
        wait_for(
            "n1's cameras recording on n2",
            lambda: all(first_segment_by(system, c, "n2") for c in victims),
            60,
        )
        assert nodes["n2"].stop() == 0
        segs = recording.list_segments(system, HOST)
        client = seaweed.client()
        try:
            listed = client.list_objects_v2(Bucket=bucket, Prefix="footage/")
            stored = {o["Key"].removeprefix("footage/") for o in listed.get("Contents", [])}
        finally:
            client.close()
        assert {s.storage_key for s in segs} <= stored  # every sealed segment is in S3
        assert not list((env.data_dir / "store").glob("**/*.mp4"))  # none on local disk
    _verify_ok(env)


def test_a_redundant_camera_loses_nothing_when_one_of_its_nodes_is_killed(
    system: bootstrap.System, env: Env, nodes: dict[str, Node]
) -> None:
    """Item 6: cam1 is recorded by two nodes at once; kill -9 the node of its first
    copy and the second copy has recorded every second of it. A third node takes the
    first copy over (a failover gap in that copy only, not in the camera's footage);
    what is handed over is one recording with no hole; verify checks both."""
    from oversight.domain import copies
    from oversight.services import coverage
    from tests.e2e.pool_nodes import segments_by

    with (
        RelayThread() as relay,
        SimulatedCameraSet(2, relay=relay, width=160, height=90, fps=10) as cams,
    ):
        for i, url in enumerate(cams.urls, start=1):
            add_camera(system, f"cam{i}", url)
        env.ok("cameras", "redundant", "cam1", "on")
        for name in ("n1", "n2"):
            nodes[name].capacity = 4
            nodes[name].start()

        def both_copies() -> tuple[str, str] | None:
            first, second = _holder(system, 0), _holder(system, 1)
            if first is None or second is None:
                return None
            if len(segments_by(system, "cam1", first)) < 3 or not segments_by(
                system, "cam1", second
            ):
                return None
            return first, second

        victim, survivor = wait_for("both copies of cam1 recording", both_copies, 90)
        assert victim != survivor  # never both copies on one node
        before = len(segments_by(system, "cam1", survivor))
        nodes[victim].kill()
        wait_for("the first copy's lease to lapse", lambda: _holder(system, 0) is None, 30)
        third = "n3"
        nodes[third].capacity = 4
        nodes[third].start()
        wait_for(
            "n3 recording the first copy",
            lambda: (
                holders(system, 0)["cam1"][0] == third and first_segment_by(system, "cam1", third)
            ),
            60,
        )
        assert len(segments_by(system, "cam1", survivor)) > before + 3  # it went on throughout
        for name in (survivor, third):
            assert nodes[name].stop() == 0
    segs = recording.list_segments(system, HOST, camera="cam1")
    assert {s.copy for s in segs} == {0, 1}
    # No footage lost: the two recordings together leave no hole from first to last.
    spans = sorted((s.start, s.end) for s in segs)
    reach = spans[0][1]
    for start, end in spans[1:]:
        assert (start - reach).total_seconds() < copies.SEAM.total_seconds(), (reach, start)
        reach = max(reach, end)
    # The first copy's hole is a failover gap of copy 0, recorded by its new owner...
    gaps = recording.list_gaps(system, HOST, "cam1")
    failover = [g for g in gaps if g.reason.startswith(f"failover: node {victim}")]
    assert len(failover) == 1 and failover[0].copy == 0, gaps
    # ... which the second copy filled: the camera's coverage shows nothing missing there
    # but, as in the union above, seam jitter (CI has shown 4-7 ms pieces at the hole's
    # edge: open question, see docs/recorder.md), never a hole of SEAM or more.
    shown = coverage.coverage(system, "cam1", failover[0].start, failover[0].end)
    assert all(g.end - g.start < copies.SEAM for g in shown.gaps), shown.gaps
    # What playback and export hand over: one recording, the hole filled from copy 1.
    handed = copies.one_recording(
        [s for s in segs if s.deleted_at is None],
        lambda s: (s.start, s.end),
        lambda s: copies.rank(s.copy, s.late),
    )
    assert any(s.copy == 1 for s in handed) and any(s.copy == 0 for s in handed)
    for prev, nxt in itertools.pairwise(handed):
        assert (nxt.start - prev.end).total_seconds() < copies.SEAM.total_seconds()
    shown_copies = {(h["camera"], h.get("copy", 0), h["reason"]) for h in _handovers(system)}
    assert ("cam1", 0, "expiry") in shown_copies and ("cam1", 1, "claim") in shown_copies
    _verify_ok(env)


def _holder(system: bootstrap.System, copy: int) -> str | None:
    return holders(system, copy).get("cam1", (None, 0))[0]
