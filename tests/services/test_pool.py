"""Recorder pool leases on a real PostgreSQL (issue 21): claims by capacity, epochs as
fencing tokens checked by the seal transaction, handover leaves, failover on expiry,
drain and rebalance, and the refusals (SQLite, a live name, capacity, another store)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.config import Settings
from oversight.errors import ConfigError, InvalidInput
from oversight.ledger import leaves
from oversight.services import pool
from oversight.services.sealing import seal_file
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera
from tests.services.test_verify import T0

POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture
def pg(initialised: Env) -> Iterator[bootstrap.System]:
    initialised.monkeypatch.setenv("OVERSIGHT_POOL_LEASE_TTL_S", "1")
    with closing(bootstrap.build(Settings())) as system:
        for i in range(6):
            add_camera(system, f"cam{i}", f"rtsp://127.0.0.1:1/cam{i}")
        yield system


def _join(system: bootstrap.System, name: str, capacity: int = 10) -> None:
    pool.join(system, HOST, name=name, capacity=capacity, host="h", pid=1, version="t")


def _handovers(system: bootstrap.System) -> list[dict[str, object]]:
    with system.reads() as s:
        return [
            leaves.decode(leaf.data) for leaf in system.ledger.leaves(s) if leaf.kind == "handover"
        ]


def _seal(system: bootstrap.System, tmp: Path, camera: str, i: int, fence: pool.Fence) -> bool:
    spool = tmp / f"{camera}-{i}.mp4"
    spool.write_bytes(os.urandom(2000 + i))
    start = T0 + timedelta(minutes=i)
    seal_file(
        system, camera=camera, path=spool, start=start, end=start + timedelta(minutes=1),
        fence=fence,
    )  # fmt: skip
    with system.reads() as s:
        from oversight.db import models as m

        row = s.query(m.Segment).filter_by(camera_id=camera).order_by(m.Segment.seq.desc()).first()
        assert row is not None and row.node == fence.node and row.epoch == fence.epoch
        return row.late


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_two_nodes_split_the_cameras_by_capacity_each_claim_a_leaf(
    pg: bootstrap.System,
) -> None:
    _join(pg, "a", capacity=4)
    _join(pg, "b", capacity=2)
    got_a = pool.cycle(pg, "a", 4)
    got_b = pool.cycle(pg, "b", 2)
    assert got_a.share == 4 and len(got_a.held) == 4  # 6 cameras * 4 / 6
    assert got_b.share == 2 and len(got_b.held) == 2
    assert set(got_a.held).isdisjoint(got_b.held)
    shown = _handovers(pg)
    assert len(shown) == 6
    assert {(h["to_node"], h["to_epoch"], h["reason"]) for h in shown} == {
        ("a", 1, "claim"),
        ("b", 1, "claim"),
    }
    # a second cycle renews, claims nothing, writes nothing
    assert pool.cycle(pg, "a", 4).gained == [] and len(_handovers(pg)) == 6


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_an_expired_lease_fails_over_and_the_old_owner_seals_late(
    pg: bootstrap.System, tmp_path: Path
) -> None:
    _join(pg, "a", capacity=6)
    held = pool.cycle(pg, "a", 6).held
    assert len(held) == 6
    lease = held["cam0"]
    assert _seal(pg, tmp_path, "cam0", 0, pool.Fence("a", lease.epoch)) is False
    _join(pg, "b", capacity=6)
    time.sleep(1.3)  # a stops renewing (killed, or cut off) past the 1 s time-to-live
    got = pool.cycle(pg, "b", 6)
    assert len(got.gained) == 6
    taken = {g.lease.camera: g for g in got.gained}["cam0"]
    assert (taken.from_node, taken.from_epoch, taken.reason) == ("a", 1, "expiry")
    assert taken.lease.epoch == 2
    # a comes back: what it still seals is kept, chained, and marked late
    assert _seal(pg, tmp_path, "cam0", 1, pool.Fence("a", 1)) is True
    assert _seal(pg, tmp_path, "cam0", 2, pool.Fence("b", 2)) is False
    # and it does not take its cameras back: its renewal finds none of them
    back = pool.cycle(pg, "a", 6)
    assert back.held == {} and back.gained == []
    with pg.reads() as s:
        sealed = [
            leaves.decode(leaf.data) for leaf in pg.ledger.leaves(s)
            if leaf.kind == "segment_sealed"
        ]  # fmt: skip
    assert [(x["node"], x["epoch"], x["lease"], x["seq"]) for x in sealed] == [
        ("a", 1, "held", 1),
        ("a", 1, "lost", 2),
        ("b", 2, "held", 3),
    ]
    assert sealed[2]["prev_sha256"] != "" and sealed[1]["prev_sha256"] != ""


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_drain_and_release_hand_cameras_over_at_once(pg: bootstrap.System) -> None:
    _join(pg, "a", capacity=6)
    _join(pg, "b", capacity=6)
    held_a = pool.cycle(pg, "a", 6).held
    assert len(held_a) == 3 and len(pool.cycle(pg, "b", 6).held) == 3  # half each
    pool.drain(pg, HOST, "a")
    again = pool.cycle(pg, "a", 6)
    assert again.draining and set(again.held) == set(held_a)
    pool.release(pg, "a", {c: lease.epoch for c, lease in again.held.items()}, pool.DRAIN)
    pool.leave(pg, "a")
    got = pool.cycle(pg, "b", 6)  # no wait for the time-to-live
    assert {g.lease.camera: g.reason for g in got.gained} == dict.fromkeys(held_a, "drain")
    states = {n.name: n.state for n in pool.list_nodes(pg, HOST)}
    assert states == {"a": "stopped", "b": "live"}


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_a_new_node_takes_its_share_and_critical_cameras_go_first(
    pg: bootstrap.System,
) -> None:
    from oversight.services import registry

    assert registry.set_priority(pg, HOST, "cam5", "critical") == 9
    _join(pg, "a", capacity=1)  # capacity short: the critical camera first
    assert list(pool.cycle(pg, "a", 1).held) == ["cam5"]
    _join(pg, "big", capacity=6)
    assert len(pool.cycle(pg, "big", 6).held) == 5  # its share of 7 capacity: ceil(6*6/7)
    _join(pg, "c", capacity=6)
    # the share of big is now ceil(6*6/13) = 3: it lets the lowest priority ones go
    got = pool.cycle(pg, "big", 6)
    assert got.share == 3 and len(got.excess) == 2 and "cam5" not in got.excess


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_bad_joins_are_one_line_and_write_nothing(
    pg: bootstrap.System, initialised: Env, tmp_path: Path
) -> None:
    _join(pg, "a")
    before = initialised.counts()
    with pytest.raises(InvalidInput, match="node a is already live"):
        _join(pg, "a")
    with pytest.raises(InvalidInput, match="--capacity must be at least 1"):
        _join(pg, "z", capacity=0)
    with pytest.raises(InvalidInput, match="invalid node name"):
        _join(pg, "no spaces")
    other = Settings(data_dir=tmp_path / "another-machine")  # its own local store
    with (
        closing(bootstrap.build(other)) as elsewhere,
        pytest.raises(InvalidInput, match="every node of a pool writes to one shared"),
    ):
        _join(elsewhere, "b")
    assert initialised.counts() == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_pool_on_sqlite_is_refused(initialised: Env) -> None:
    before = initialised.counts()
    result = initialised.fails("record", "--node", "a", "--duration", "1")
    assert "a recorder pool needs PostgreSQL" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert initialised.counts() == before
    with closing(bootstrap.build(Settings())) as system, pytest.raises(ConfigError):
        _join(system, "a")


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_verify_checks_who_held_the_lease_and_the_index_of_it(
    pg: bootstrap.System, initialised: Env, tmp_path: Path
) -> None:
    import json

    from sqlalchemy import create_engine, text

    _join(pg, "a", capacity=6)
    pool.cycle(pg, "a", 6)
    _seal(pg, tmp_path, "cam0", 0, pool.Fence("a", 1))
    _join(pg, "b", capacity=6)
    time.sleep(1.3)
    pool.cycle(pg, "b", 6)
    _seal(pg, tmp_path, "cam0", 1, pool.Fence("a", 1))  # late
    report = json.loads(initialised.ok("verify", "--json").output)
    assert report["ok"]
    assert any("node a sealed 1 segment(s) after losing" in w for w in report["warnings"])
    # an index that hides the late mark (or moves the footage to another node) is caught
    engine = create_engine(initialised.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE segments SET late = false, node = 'b' WHERE seq = 2"))
    engine.dispose()
    report = json.loads(initialised.fails("verify", "--json", code=1).output)
    assert [(p["kind"], p["object"]) for p in report["problems"]] == [
        ("index-mismatch", "segment cam0#2")
    ]
    assert "node" in report["problems"][0]["detail"] and "late" in report["problems"][0]["detail"]
    # a leaf claiming to be the holder's seal while another node held the lease
    with pg.sessions.begin() as s:
        pg.ledger.append(
            s,
            [
                leaves.segment_sealed(
                    at=T0, camera="cam0", seq=99, prev_sha256="", start=T0,
                    end=T0 + timedelta(seconds=1), clock_offset_ms=0, size=1, sha256="0" * 64,
                    storage_key="forged", node="a", epoch=1,
                )
            ],
        )  # fmt: skip
    report = json.loads(initialised.fails("verify", "--json", code=1).output)
    unleased = [p for p in report["problems"] if p["kind"] == "unleased"]
    assert [p["object"] for p in unleased] == ["segment cam0#99"]
    assert "node b held epoch 2" in unleased[0]["detail"]


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_a_node_back_from_a_partition_waits_for_a_rebalance(pg: bootstrap.System) -> None:
    _join(pg, "a", capacity=6)
    _join(pg, "b", capacity=6)
    pool.cycle(pg, "a", 6)
    pool.cycle(pg, "b", 6)
    time.sleep(1.3)  # a is cut off past its lease
    assert len(pool.cycle(pg, "b", 6).held) == 6  # b takes everything
    back = pool.cycle(pg, "a", 6)  # a is back: it renews nothing and takes nothing
    assert back.held == {} and back.gained == []
    assert pool.cycle(pg, "b", 6).excess == []  # nobody asked b to give any up
    assert pool.rebalance(pg, HOST) == 2
    got = pool.cycle(pg, "b", 6)
    assert len(got.excess) == 3 and got.share == 3
    assert pool.cycle(pg, "b", 6).excess == []  # asked once, done once


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_each_nodes_health_monitor_watches_the_cameras_it_holds(pg: bootstrap.System) -> None:
    from oversight.health.monitor import Monitor, MonitorOptions

    _join(pg, "a", capacity=6)
    _join(pg, "b", capacity=6)
    held_a = set(pool.cycle(pg, "a", 6).held)
    held_b = set(pool.cycle(pg, "b", 6).held)
    watching = {}
    for node in ("a", "b"):
        monitor = Monitor(pg, MonitorOptions(node=node))
        monitor._sync_cameras()  # the poll of its run loop, without starting probes
        watching[node] = set(monitor.watches)
    assert watching == {"a": held_a, "b": held_b}  # one monitor per camera
    time.sleep(1.3)
    pool.cycle(pg, "b", 6)  # a failed over to b: b's monitor follows the leases
    monitor = Monitor(pg, MonitorOptions(node="b"))
    monitor._sync_cameras()
    assert set(monitor.watches) == held_a | held_b


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_pool_options_on_the_command_line_are_one_line_and_write_nothing(
    initialised: Env,
) -> None:
    before = initialised.counts()
    for args, message in [
        (("record", "--node", "a", "--capacity", "0"), "--capacity must be at least 1, not 0"),
        (("record", "--node", "bad name"), "invalid node name"),
        (("record", "--node", "a", "--camera", "cam1"), "--camera cannot be used with --node"),
        (("monitor", "--node", "a", "--duration", "1"), "a recorder pool needs PostgreSQL"),
        (("nodes", "list"), "a recorder pool needs PostgreSQL"),
        (("nodes", "drain", "a"), "a recorder pool needs PostgreSQL"),
        (("cameras", "priority", "cam1", "urgent"), "is not one of critical, normal, low"),
    ]:
        result = initialised.fails(*args)
        assert message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert initialised.counts() == before


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_a_camera_removed_from_the_registry_is_let_go_not_handed_over(
    pg: bootstrap.System,
) -> None:
    from oversight.services import registry

    _join(pg, "a", capacity=6)
    assert "cam0" in pool.cycle(pg, "a", 6).held
    registry.remove_camera(pg, HOST, "cam0", pg.packs.local_date(pg.clock.now()))
    got = pool.cycle(pg, "a", 6)
    assert "cam0" not in got.held and got.removed == {"cam0": 1}
    pool.release(pg, "a", got.removed, pool.STOP)
    assert pool.cycle(pg, "a", 6).removed == {}  # released once, nobody claims it
    _join(pg, "b", capacity=6)
    assert "cam0" not in pool.cycle(pg, "b", 6).held


# ---- redundant recording (item 6) -----------------------------------------------------


def _copies(system: bootstrap.System, camera: str) -> dict[int, str | None]:
    from oversight.db import models as m

    with system.reads() as s:
        return {
            row.copy: row.node
            for row in s.query(m.CameraLease).filter_by(camera_id=camera, released=None)
        }


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_a_redundant_camera_is_held_by_two_nodes_never_both_copies_by_one(
    pg: bootstrap.System,
) -> None:
    from oversight.services import registry

    assert registry.set_redundant(pg, HOST, "cam0", True)
    _join(pg, "a")
    first = pool.cycle(pg, "a", 10)  # alone: all six first copies, not cam0's second
    assert sorted(first.held) == [f"cam{i}" for i in range(6)]
    assert {lease.copy for lease in first.held.values()} == {0}
    _join(pg, "b")
    second = pool.cycle(pg, "b", 10)
    assert [(c, lease.copy) for c, lease in second.held.items()] == [("cam0", 1)]
    assert _copies(pg, "cam0") == {0: "a", 1: "b"}
    claims = [h for h in _handovers(pg) if h["camera"] == "cam0"]
    assert [(h["to_node"], h.get("copy", 0)) for h in claims] == [("a", 0), ("b", 1)]
    # a dies: b keeps its copy and cannot take the first as well; c takes it.
    time.sleep(1.2)
    again = pool.cycle(pg, "b", 10)
    assert "cam0" in again.held and again.held["cam0"].copy == 1
    assert {lease.copy for lease in again.held.values()} <= {0, 1}
    assert _copies(pg, "cam0")[1] == "b" and _copies(pg, "cam0")[0] == "a"  # a's, expired
    _join(pg, "c")
    third = pool.cycle(pg, "c", 10)
    assert third.held["cam0"].copy == 0
    assert _copies(pg, "cam0") == {0: "c", 1: "b"}


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_each_copy_is_fenced_by_its_own_lease_and_chained_in_one_chain(
    pg: bootstrap.System, tmp_path: Path
) -> None:
    from oversight.db import models as m
    from oversight.services import registry, verify

    registry.set_redundant(pg, HOST, "cam0", True)
    _join(pg, "a")
    _join(pg, "b")
    pool.cycle(pg, "a", 10)
    b = pool.cycle(pg, "b", 10)
    a = pool.cycle(pg, "a", 10)
    fence_a = pool.Fence("a", a.held["cam0"].epoch, a.held["cam0"].copy)
    fence_b = pool.Fence("b", b.held["cam0"].epoch, b.held["cam0"].copy)
    assert (fence_a.copy, fence_b.copy) == (0, 1)
    assert not _seal(pg, tmp_path, "cam0", 0, fence_a)
    assert not _seal(pg, tmp_path, "cam0", 1, fence_b)  # held: copy 1's lease, not late
    assert _seal(pg, tmp_path, "cam0", 2, pool.Fence("b", fence_b.epoch, 0))  # not b's copy
    with pg.reads() as s:
        rows = s.query(m.Segment).filter_by(camera_id="cam0").order_by(m.Segment.seq).all()
        assert [(r.seq, r.copy, r.late) for r in rows] == [
            (1, 0, False),
            (2, 1, False),
            (3, 0, True),
        ]
        assert rows[1].prev_sha256 == rows[0].sha256 and rows[2].prev_sha256 == rows[1].sha256
    report = verify.verify(pg)
    assert report.problems == [], report.problems
    with pg.sessions.begin() as s:  # an index edit moving footage between copies is caught
        s.query(m.Segment).filter_by(camera_id="cam0", seq=2).update({"copy": 0})
    kinds = {(p.kind, p.object) for p in verify.verify(pg).problems}
    assert ("index-mismatch", "segment cam0#2") in kinds


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_a_camera_no_longer_redundant_lets_its_second_copy_go(pg: bootstrap.System) -> None:
    from oversight.services import registry

    registry.set_redundant(pg, HOST, "cam0", True)
    _join(pg, "a")
    _join(pg, "b")
    pool.cycle(pg, "a", 10)
    assert pool.cycle(pg, "b", 10).held["cam0"].copy == 1
    assert registry.set_redundant(pg, HOST, "cam0", False) is False
    got = pool.cycle(pg, "b", 10)
    assert "cam0" not in got.held and "cam0" in got.unwanted


def test_one_recording_takes_the_first_copy_and_fills_its_holes_from_the_second() -> None:
    from oversight.domain import copies

    def seg(start_s: float, end_s: float, copy: int = 0, late: bool = False) -> tuple:
        return (T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s), copy, late)

    first = [seg(0, 4), seg(4, 8), seg(20, 24)]  # node of copy 0 died at 8 s, back at 20 s
    second = [seg(1, 5, 1), seg(5, 9, 1), seg(9, 13, 1), seg(13, 17, 1), seg(17, 21, 1)]
    late = [seg(8, 12, 0, True)]
    everything = sorted(first + second + late)
    chosen = copies.one_recording(
        everything, lambda s: (s[0], s[1]), lambda s: copies.rank(s[2], s[3])
    )
    assert chosen == sorted(first + second[1:])  # 5-21 s from the second copy fill 8-20 s
    assert late[0] not in chosen  # the second copy covers it: late footage is not the owner's
    alone = copies.one_recording(late, lambda s: (s[0], s[1]), lambda s: copies.rank(s[2], s[3]))
    assert alone == late  # nothing else: late footage is what there is
    assert copies.one_recording(first, lambda s: (s[0], s[1]), lambda s: 0) == first


@pytest.mark.parametrize("database_url", POSTGRES, indirect=True)
def test_each_node_keeps_its_own_live_window_and_the_server_serves_the_holders(
    pg: bootstrap.System,
) -> None:
    """Nodes of a pool on one machine share the data dir: a node letting a camera go
    empties its own live window, never the new owner's (issue 22's live view in a pool)."""
    from oversight.services import live

    settings = pg.settings
    assert settings.live_dir("cam0", "a") != settings.live_dir("cam0", "b")
    assert live.window_dir(pg, "cam0") == settings.live_root / "cam0"  # no holder yet
    _join(pg, "a")
    pool.cycle(pg, "a", 10)
    assert live.window_dir(pg, "cam0") == settings.data_dir / "live-nodes" / "a" / "cam0"
    pool.release(pg, "a", {"cam0": 1}, pool.STOP)
    _join(pg, "b")
    pool.cycle(pg, "b", 10)
    assert live.window_dir(pg, "cam0") == settings.data_dir / "live-nodes" / "b" / "cam0"
