"""The recorder pool (issue 21): nodes take cameras through PostgreSQL row leases.

Each node, every ``OVERSIGHT_POOL_CLAIM_INTERVAL_S``, runs one :func:`cycle`
transaction: it heartbeats, renews the leases it holds, and claims unowned, released
or expired cameras with ``SELECT ... FOR UPDATE SKIP LOCKED`` up to its fair share
(capacity over the live nodes' capacity), critical cameras first. A node lets go
what it holds beyond its share only when asked (a node joined, or `oversight nodes
rebalance`), so one back from a partition does not take cameras back by itself. Expiry is computed
on the database clock (``now()``), never a node's own. Every claim increments the
camera's epoch, the fencing token :func:`lease_held` checks inside the seal
transaction, and is a ``handover`` ledger leaf (from node and epoch, to node and
epoch, reason) written in the same transaction.

A camera marked ``redundant`` (item 6) has two leases, copy 0 and copy 1, each with
its own owner and epoch; no node holds both copies of one camera, so the two copies are
recorded by two nodes and a node's death costs the camera no footage. First copies are
claimed before second copies when capacity is short, and second copies are let go first.

Locks are taken in one order everywhere: lease rows, then the ledger's advisory
lock. A seal takes the ledger lock and only reads the lease row, so a claim and a
seal of one camera are serialised by the ledger lock and the seal sees the claim
either wholly before or wholly after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain.people import Person
from oversight.errors import ConfigError, InvalidInput, NotFound
from oversight.ledger import leaves
from oversight.services import authz
from oversight.services.recording import CameraSource, utc

MAX_NODE_NAME = 64
CLAIM = "claim"  # the camera had no owner
EXPIRY = "expiry"  # the owner stopped renewing: a failover
DRAIN, STOP, REBALANCE = "drain", "stop", "rebalance"  # the owner let it go


@dataclass(frozen=True)
class Fence:
    """What a node seals under: its name and the epoch of its claim on the camera."""

    node: str
    epoch: int
    copy: int = 0  # which recording of a redundant camera


@dataclass(frozen=True)
class Lease:
    camera: str
    epoch: int
    stream_url: str
    credentials: str | None
    priority: int
    copy: int = 0


@dataclass(frozen=True)
class Gained:
    lease: Lease
    from_node: str | None
    from_epoch: int
    reason: str  # claim, expiry, drain, stop, rebalance
    leaf: int


@dataclass
class Assignment:
    """One cycle's outcome for a node."""

    held: dict[str, Lease] = field(default_factory=dict)  # every lease held now (one per camera)
    gained: list[Gained] = field(default_factory=list)  # claimed in this cycle
    excess: list[str] = field(default_factory=list)  # over the fair share: let go
    removed: dict[str, int] = field(default_factory=dict)  # held, gone from the registry
    # A second copy held of a camera no longer marked redundant: camera -> epoch.
    unwanted: dict[str, int] = field(default_factory=dict)
    draining: bool = False
    share: int = 0


@dataclass(frozen=True)
class NodeRec:
    name: str
    host: str
    pid: int
    capacity: int
    version: str
    store: str
    started_at: datetime
    last_seen: datetime
    seen_ago_s: float
    state: str  # live, draining, stopped, lost
    cameras: int


def require_pool_database(system: System) -> None:
    if system.engine.dialect.name != "postgresql":
        raise ConfigError(
            "a recorder pool needs PostgreSQL (OVERSIGHT_DATABASE_URL) and a store every "
            "node shares: --node is refused on SQLite"
        )


def store_identity(system: System) -> str:
    """Which store this node writes to; a pool's nodes must all name the same one."""
    return system.store.identity


def _ttl(system: System) -> str:
    return f"{system.settings.pool_lease_ttl_s} seconds"


def check_name(name: str) -> None:
    if not name or len(name) > MAX_NODE_NAME or not all(c.isalnum() or c in "-_." for c in name):
        raise InvalidInput(
            f"invalid node name {name[:80]!r}: 1-{MAX_NODE_NAME} letters, digits, '-', '_', '.'"
        )


def join(
    system: System, actor: Person, *, name: str, capacity: int, host: str, pid: int, version: str
) -> None:
    """Register this process as node ``name``: refused if a live node has that name,
    or if the live nodes write to another store."""
    require_pool_database(system)
    check_name(name)
    if capacity < 1:
        raise InvalidInput(f"--capacity must be at least 1, not {capacity}")
    store = store_identity(system)
    with system.sessions.begin() as s:
        authz.deployment(s, actor, "recorder.run")
        s.execute(text("SELECT pg_advisory_xact_lock(hashtext('oversight.pool.join'))"))
        rows = s.execute(
            text(
                "SELECT name, host, store, extract(epoch FROM now() - last_seen) AS ago "
                "FROM recorder_nodes WHERE stopped_at IS NULL AND last_seen > now() - "
                "CAST(:ttl AS interval)"
            ),
            {"ttl": _ttl(system)},
        ).all()
        for row in rows:
            if row.name == name:
                raise InvalidInput(
                    f"node {name} is already live (on {row.host}, last seen {row.ago:.0f} s "
                    "ago): choose another --node name"
                )
            if row.store != store:
                raise InvalidInput(
                    f"this node's store ({store}) is not the pool's ({row.store}, node "
                    f"{row.name}): every node of a pool writes to one shared store"
                )
        s.execute(
            text(
                "INSERT INTO recorder_nodes (name, host, pid, capacity, version, store, "
                "started_at, last_seen, draining, stopped_at) VALUES (:n, :h, :p, :c, :v, :s, "
                "now(), now(), false, NULL) ON CONFLICT (name) DO UPDATE SET host = :h, "
                "pid = :p, capacity = :c, version = :v, store = :s, started_at = now(), "
                "last_seen = now(), draining = false, stopped_at = NULL"
            ),
            {"n": name, "h": host, "p": pid, "c": capacity, "v": version, "s": store},
        )
        # The others let go what is beyond their share now, so the new node gets its own.
        s.execute(
            text(
                "UPDATE recorder_nodes SET rebalance = true WHERE name <> :n AND stopped_at IS NULL"
            ),
            {"n": name},
        )


def _lease(row: Any, epoch: int | None = None) -> Lease:
    return Lease(
        row.camera_id,
        int(row.epoch) if epoch is None else epoch,
        row.stream_url,
        row.credentials,
        row.priority,
        int(row.copy),
    )


def fair_share(total: int, capacity: int, live_capacity: int) -> int:
    """Cameras a node of ``capacity`` should hold of ``total``, by capacity."""
    if live_capacity <= 0:
        return min(total, capacity)
    return min(capacity, math.ceil(total * capacity / live_capacity))


def cycle(system: System, node: str, capacity: int) -> Assignment:
    """Heartbeat, renew, and claim up to the fair share (one transaction)."""
    out = Assignment()
    ttl = {"ttl": _ttl(system), "n": node}
    with system.sessions.begin() as s:
        me = s.execute(
            text(
                "SELECT draining, rebalance AS asked FROM recorder_nodes WHERE name = :n FOR UPDATE"
            ),
            {"n": node},
        ).first()
        if me is None:
            raise NotFound(f"node {node} is not registered: it must join first")
        s.execute(
            text("UPDATE recorder_nodes SET last_seen = now(), rebalance = false WHERE name = :n"),
            {"n": node},
        )
        out.draining = bool(me.draining)
        held = s.execute(
            text(
                "UPDATE camera_leases l SET expires_at = now() + CAST(:ttl AS interval) "
                "FROM cameras c WHERE c.id = l.camera_id AND l.node = :n AND l.released IS NULL "
                "RETURNING l.camera_id, l.copy, l.epoch, c.stream_url, c.credentials, "
                "c.priority, c.removed, c.redundant"
            ),
            ttl,
        ).all()
        for row in held:
            if row.removed is not None:
                out.removed[row.camera_id] = int(row.epoch)
            elif row.copy and not row.redundant:
                out.unwanted[row.camera_id] = int(row.epoch)
            else:
                out.held[row.camera_id] = _lease(row)
        if out.draining:
            return out
        live = s.execute(
            text(
                "SELECT coalesce(sum(capacity), 0) FROM recorder_nodes WHERE stopped_at IS NULL "
                "AND NOT draining AND last_seen > now() - CAST(:ttl AS interval)"
            ),
            ttl,
        ).scalar_one()
        total = s.execute(  # leases to hold: a redundant camera has two
            text(
                "SELECT count(*) + count(*) FILTER (WHERE redundant) FROM cameras "
                "WHERE removed IS NULL"
            )
        ).scalar_one()
        out.share = fair_share(int(total), capacity, int(live))
        if me.asked and len(out.held) > out.share:  # a node joined: lowest priority go
            # Second copies go first, then the lowest priority.
            ranked = sorted(
                out.held.values(), key=lambda lease: (-lease.copy, lease.priority, lease.camera)
            )
            out.excess = [lease.camera for lease in ranked[: len(out.held) - out.share]]
            return out
        want = out.share - len(out.held)
        if want <= 0:
            return out
        claimable = s.execute(
            text(
                "SELECT l.camera_id, l.copy, l.node, l.epoch, l.released, c.stream_url, "
                "c.credentials, c.priority FROM camera_leases l JOIN cameras c ON "
                "c.id = l.camera_id WHERE c.removed IS NULL AND (l.copy = 0 OR c.redundant) "
                "AND (l.node IS NULL OR l.released IS NOT NULL OR "
                "l.expires_at IS NULL OR l.expires_at < now()) "
                # Never both copies of one camera on one node.
                "AND NOT EXISTS (SELECT 1 FROM camera_leases o WHERE o.camera_id = l.camera_id "
                "AND o.copy <> l.copy AND o.node = :n AND o.released IS NULL) "
                "ORDER BY c.priority DESC, l.copy, l.camera_id LIMIT :k "
                "FOR UPDATE OF l SKIP LOCKED"
            ),
            {"k": want, "n": node},
        ).all()
        entries: list[tuple[Any, str]] = []
        for row in claimable:
            if row.camera_id in out.held or any(e.camera_id == row.camera_id for e, _ in entries):
                continue  # both copies were claimable: the other one is for another node
            reason = CLAIM if row.node is None else (row.released or EXPIRY)
            if row.node == node and row.released is None:
                reason = EXPIRY  # our own lease ran out and nobody took it: a new epoch
            entries.append((row, reason))
            s.execute(
                text(
                    "UPDATE camera_leases SET node = :n, epoch = epoch + 1, released = NULL, "
                    "expires_at = now() + CAST(:ttl AS interval), claimed_at = now() "
                    "WHERE camera_id = :c AND copy = :k"
                ),
                {**ttl, "c": row.camera_id, "k": row.copy},
            )
        if not entries:
            return out
        now = system.clock.now()
        indexes = system.ledger.append(
            s,
            [
                leaves.handover(
                    at=now,
                    camera=row.camera_id,
                    from_node=row.node,
                    from_epoch=int(row.epoch),
                    to_node=node,
                    to_epoch=int(row.epoch) + 1,
                    reason=reason,
                    copy=int(row.copy),
                )
                for row, reason in entries
            ],
        )
        for (row, reason), index in zip(entries, indexes, strict=True):
            lease = _lease(row, int(row.epoch) + 1)
            out.held[lease.camera] = lease
            out.gained.append(Gained(lease, row.node, int(row.epoch), reason, index))
    return out


def release(system: System, node: str, cameras: dict[str, int], reason: str) -> None:
    """Let ``cameras`` (camera -> epoch held) go at once, after their footage is sealed;
    a lease that has meanwhile passed to another epoch is not touched."""
    if not cameras:
        return
    with system.sessions.begin() as s:
        for camera, epoch in sorted(cameras.items()):
            s.execute(
                text(
                    "UPDATE camera_leases SET released = :r, expires_at = now() "
                    "WHERE camera_id = :c AND node = :n AND epoch = :e"
                ),
                {"r": reason, "c": camera, "n": node, "e": epoch},
            )


def leave(system: System, node: str) -> None:
    """The node has stopped (after releasing its cameras)."""
    with system.sessions.begin() as s:
        s.execute(
            text("UPDATE recorder_nodes SET stopped_at = now(), draining = false WHERE name = :n"),
            {"n": node},
        )


def leased_cameras(system: System, node: str) -> list[CameraSource]:
    """The cameras whose live lease ``node`` holds: what its health monitor watches
    (one monitor per camera, following the recorder's leases through failovers)."""
    require_pool_database(system)
    with system.reads() as s:
        rows = s.execute(
            text(
                "SELECT c.id, c.stream_url, c.credentials FROM camera_leases l JOIN cameras c "
                "ON c.id = l.camera_id WHERE l.node = :n AND l.released IS NULL AND "
                "l.expires_at > now() AND c.removed IS NULL "
                # A redundant camera is watched once: by the lowest copy's live holder.
                "AND NOT EXISTS (SELECT 1 FROM camera_leases o WHERE o.camera_id = l.camera_id "
                "AND o.copy < l.copy AND o.node IS NOT NULL AND o.released IS NULL AND "
                "o.expires_at > now()) ORDER BY c.id"
            ),
            {"n": node},
        ).all()
    return [CameraSource(*row) for row in rows]


def lease_held(session: Session, camera: str, fence: Fence) -> bool:
    """Inside the seal transaction, after the ledger lock: does ``fence`` still hold the
    camera's lease? (Its expiry alone does not end it: only another claim does.)"""
    row = session.get(m.CameraLease, (camera, fence.copy), populate_existing=True)
    return (
        row is not None
        and row.node == fence.node
        and row.epoch == fence.epoch
        and row.released is None
    )


# ---- administration ---------------------------------------------------------------


def list_nodes(system: System, actor: Person) -> list[NodeRec]:
    require_pool_database(system)
    with system.reads() as s:
        authz.deployment(s, actor, "recordings.read")
        rows = s.execute(
            text(
                "SELECT n.*, extract(epoch FROM now() - n.last_seen) AS ago, "
                "(SELECT count(*) FROM camera_leases l WHERE l.node = n.name AND "
                "l.released IS NULL AND l.expires_at > now()) AS cameras, "
                "CAST(:ttl AS interval) AS ttl_i FROM recorder_nodes n ORDER BY n.name"
            ),
            {"ttl": _ttl(system)},
        ).all()
    out = []
    for r in rows:
        ago = float(r.ago)
        if r.stopped_at is not None:
            state = "stopped"
        elif ago > system.settings.pool_lease_ttl_s:
            state = "lost"
        else:
            state = "draining" if r.draining else "live"
        out.append(
            NodeRec(
                r.name,
                r.host,
                r.pid,
                r.capacity,
                r.version,
                r.store,
                utc(r.started_at),
                utc(r.last_seen),
                ago,
                state,
                int(r.cameras),
            )
        )
    return out


def rebalance(system: System, actor: Person) -> int:
    """Ask every live node to let go what it holds beyond its fair share at its next
    cycle (a join does this by itself); the number of nodes asked."""
    require_pool_database(system)
    with system.sessions.begin() as s:
        authz.deployment(s, actor, "recorder.manage")
        done = s.execute(
            text(
                "UPDATE recorder_nodes SET rebalance = true WHERE stopped_at IS NULL AND "
                "NOT draining AND last_seen > now() - CAST(:ttl AS interval)"
            ),
            {"ttl": _ttl(system)},
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


def drain(system: System, actor: Person, name: str) -> None:
    """Ask node ``name`` to seal, let its cameras go and stop (it sees it within a
    claim interval); other nodes claim them at their next cycle."""
    require_pool_database(system)
    with system.sessions.begin() as s:
        authz.deployment(s, actor, "recorder.manage")
        node = s.get(m.RecorderNode, name)
        if node is None:
            raise NotFound(f"no recorder node {name!r}")
        if node.stopped_at is not None:
            raise InvalidInput(f"node {name} has stopped: there is nothing to drain")
        node.draining = True
