"""Ledger use cases for the interfaces: checkpoints, proofs and leaves of the log.

Each function is one transaction; the results are the ledger's own frozen records
(``StoredCheckpoint``, ``StoredLeaf``) or plain values, never database rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import policy
from oversight.domain.people import Person
from oversight.errors import InvalidInput, NotFound
from oversight.ledger import keys, leaves, proof
from oversight.ledger.log import StoredCheckpoint, StoredLeaf
from oversight.services import audit, authz

# Leaves of the access register: who looked at what, why, for whom. Their content is
# for readers of the register (``audit.read``, within scope); anyone else who may read
# the ledger gets the index, type and hash only, so proofs still check.
RESTRICTED_KINDS = frozenset({"access"})


@dataclass(frozen=True)
class LeafView:
    """One leaf as ``actor`` may see it: ``data`` is None when it is withheld."""

    index: int
    kind: str
    leaf_hash: bytes
    data: bytes | None

    @property
    def withheld(self) -> bool:
        return self.data is None


def _readable(session: Any, person: Person, stored: StoredLeaf) -> bool:
    if stored.kind not in RESTRICTED_KINDS:
        return True
    if not policy.may_take(person, "audit.read"):
        return False
    cameras = audit.cameras_of(leaves.decode(stored.data))
    try:
        sites = authz.camera_sites(session, cameras)
    except NotFound:  # a camera named in the leaf was never registered: no site holds it
        sites = frozenset()
    return policy.allowed(person, "audit.read", policy.Target("leaf", str(stored.index), sites))


def _view(session: Any, person: Person, stored: StoredLeaf) -> LeafView:
    data = stored.data if _readable(session, person, stored) else None
    return LeafView(stored.index, stored.kind, stored.leaf_hash, data)


@dataclass(frozen=True)
class LeafProof:
    index: int  # the leaf proved
    size: int  # the tree size of the checkpoint it is proved against
    text: str  # the C2SP tlog-proof


def latest_checkpoint(system: System) -> StoredCheckpoint | None:
    with system.reads() as session:
        return system.ledger.latest_checkpoint(session)


def publish(system: System) -> StoredCheckpoint:
    """Sign a checkpoint of the log as it is now (unless the latest already covers it)."""
    with system.sessions.begin() as session:
        return system.ledger.publish(session)


def checkpoints(system: System, since: int = 0) -> list[StoredCheckpoint]:
    """Every checkpoint of at least ``since`` leaves, smallest first."""
    with system.reads() as session:
        return system.ledger.checkpoints(session, since=since)


def leaf(system: System, actor: Person, index: int) -> LeafView:
    """One leaf, its content withheld unless ``actor`` may read it (see RESTRICTED_KINDS)."""
    with system.reads() as session:
        person = authz.current(session, actor)
        policy.require(person, "ledger.read")
        return _view(session, person, system.ledger.leaf(session, index))


@dataclass(frozen=True)
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    path: list[bytes]
    checkpoint: str
    text: str  # C2SP tlog-proof; its extra line (the leaf bytes) only where readable


def inclusion(
    system: System,
    actor: Person,
    *,
    index: int | None = None,
    segment: int | None = None,
    size: int | None = None,
) -> InclusionProof:
    """A tlog-proof of leaf ``index`` (or of segment ``segment``'s ``segment_sealed``
    leaf) against the checkpoint of ``size`` leaves (default: the latest)."""
    if (index is None) == (segment is None):
        raise InvalidInput("give exactly one of index and segment")
    ledger = system.ledger
    with system.reads() as session:
        person = authz.current(session, actor)
        policy.require(person, "ledger.read")
        if segment is not None:
            row = session.get(m.Segment, segment)
            if row is None:
                raise NotFound(f"segment {segment} does not exist")
            index = row.leaf_index
        assert index is not None
        if size is None:
            cp = ledger.latest_checkpoint(session)
            if cp is None or index >= cp.size:
                raise NotFound(f"no checkpoint covers leaf {index} yet")
        else:
            cp = next((c for c in ledger.checkpoints(session, since=size) if c.size == size), None)
            if cp is None:
                raise NotFound(f"there is no signed checkpoint of size {size}")
            if index >= cp.size:
                raise NotFound(f"the checkpoint of size {cp.size} does not cover leaf {index}")
        view = _view(session, person, ledger.leaf(session, index))
        path = ledger.inclusion_proof(session, index, cp.size)
    text = proof.make(index, path, cp.note, view.data)
    return InclusionProof(index, cp.size, view.leaf_hash, list(path), cp.note, text)


def prove(
    system: System, actor: Person, *, index: int | None = None, segment: int | None = None
) -> LeafProof:
    """A tlog-proof of leaf ``index`` (or of a segment's leaf) against the latest checkpoint."""
    made = inclusion(system, actor, index=index, segment=segment)
    return LeafProof(made.index, made.size, made.text)


def list_leaves(
    system: System, actor: Person, *, since: int = 0, limit: int, kind: str | None = None
) -> list[LeafView]:
    """At most ``limit`` leaves from index ``since`` on (only of ``kind``), oldest first,
    each withheld where ``actor`` may not read it."""
    with system.reads() as session:
        person = authz.current(session, actor)
        policy.require(person, "ledger.read")
        query = select(m.LedgerLeaf).where(m.LedgerLeaf.idx >= since).order_by(m.LedgerLeaf.idx)
        if kind:
            query = query.where(m.LedgerLeaf.kind == kind)
        return [
            _view(
                session,
                person,
                StoredLeaf(r.idx, r.kind, bytes(r.data), bytes(r.leaf_hash), r.created_at),
            )
            for r in session.scalars(query.limit(limit))
        ]


@dataclass(frozen=True)
class KeyChange:
    action: str  # "rotate" or "retire"
    old: str  # the previous (rotate) or retired (retire) verifier key
    new: str  # the current verifier key
    leaf: int  # the ledger leaf that records the change


def _key_leaf(system: System, person: Person, action: str, details: dict[str, str]) -> int:
    with system.sessions.begin() as session:
        (index,) = system.ledger.append(
            session,
            [
                leaves.operations(
                    at=system.clock.now(),
                    actor=person.id,
                    action=action,
                    subject="ledger:key",
                    details=details,
                )
            ],
        )
    return index


def rotate_key(system: System, actor: Person) -> KeyChange:
    """A new signing key; the old one co-signs every checkpoint until ``retire_key``.

    The change is a leaf, and the checkpoint covering it carries both signatures: the
    old key vouches for the new one in the log itself."""
    with system.reads() as session:
        person = authz.current(session, actor)
    policy.require(person, "ledger.keys")
    old, new = keys.rotate(system.settings.keys_dir)
    leaf = _key_leaf(system, person, "ledger.key.rotate", {"old": old, "new": new})
    return KeyChange("rotate", old, new, leaf)


def retire_key(system: System, actor: Person) -> KeyChange:
    """Stop co-signing with the previous key (its public key stays trusted for the
    checkpoints it signed). Recorded before the private key is deleted, so the leaf's
    checkpoint is the last one the old key signs."""
    with system.reads() as session:
        person = authz.current(session, actor)
    policy.require(person, "ledger.keys")
    old = keys.retiring_key(system.settings.keys_dir)
    if old is None:
        raise InvalidInput("no key is retiring: run `oversight ledger rotate-key` first")
    new = keys.verifier_key(system.settings.keys_dir)
    leaf = _key_leaf(system, person, "ledger.key.retire", {"retired": old, "current": new})
    keys.retire(system.settings.keys_dir)
    return KeyChange("retire", old, new, leaf)
