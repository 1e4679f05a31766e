"""The persistent log on SQLite and PostgreSQL: appends, stored hashes, proofs,
signed checkpoints, and a writer killed with SIGKILL mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from oversight import bootstrap
from oversight.db import models as m
from oversight.errors import ConfigError, InvalidInput, NotFound, ProofError
from oversight.ledger import keys, leaves, merkle, note

AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _leaf(i: int) -> dict[str, object]:
    return leaves.registry(
        at=AT, actor="tester", action="test.append", subject=f"s{i}", changes={"i": i}
    )


def _append(system: bootstrap.System, start: int, count: int) -> list[int]:
    with system.sessions.begin() as session:
        return system.ledger.append(session, [_leaf(i) for i in range(start, start + count)])


def _verifier(system: bootstrap.System) -> note.Verifier:
    return note.parse_verifier(keys.verifier_key(system.settings.keys_dir))


def test_appends_match_an_in_memory_tree_and_every_proof_verifies(
    system: bootstrap.System,
) -> None:
    indexes: list[int] = []
    for start, count in [(0, 1), (1, 2), (3, 5), (8, 1), (9, 13)]:
        indexes += _append(system, start, count)
    assert indexes == list(range(22))
    expected = [merkle.leaf_hash(leaves.canonical(_leaf(i))) for i in range(22)]
    with system.sessions() as session:
        ledger = system.ledger
        assert ledger.size(session) == 22
        for size in range(23):
            assert ledger.root(session, size) == merkle.root_hash(expected[:size])
        root = ledger.root(session)
        for index in range(22):
            stored = ledger.leaf(session, index)
            assert stored.leaf_hash == expected[index] == merkle.leaf_hash(stored.data)
            proof = ledger.inclusion_proof(session, index)
            merkle.verify_inclusion(index, 22, stored.leaf_hash, proof, root)
        for size1 in range(23):
            proof = ledger.consistency_proof(session, size1)
            old_root = ledger.root(session, size1)
            merkle.verify_consistency(size1, 22, old_root, root, proof)


def test_every_batch_is_covered_by_a_signed_checkpoint(system: bootstrap.System) -> None:
    _append(system, 0, 3)
    _append(system, 3, 4)
    verifier = _verifier(system)
    with system.sessions() as session:
        checkpoints = system.ledger.checkpoints(session)
        assert [c.size for c in checkpoints] == [3, 7]
        for stored in checkpoints:
            checkpoint, _ = note.open_checkpoint(
                stored.note, [verifier], origin=system.settings.ledger_origin
            )
            assert checkpoint.size == stored.size
            assert checkpoint.root_hash == system.ledger.root(session, stored.size)
        assert system.ledger.checkpoints(session, since=5) == checkpoints[1:]
        latest = system.ledger.latest_checkpoint(session)
        assert latest is not None and latest.size == 7


def test_publish_signs_the_current_tree_once(system: bootstrap.System) -> None:
    with system.sessions.begin() as session:
        empty = system.ledger.publish(session)
    assert empty.size == 0 and empty.root == merkle.EMPTY_ROOT
    _append(system, 0, 2)
    with system.sessions.begin() as session:
        first = system.ledger.publish(session)
    with system.sessions.begin() as session:
        again = system.ledger.publish(session)
    assert first == again and first.size == 2
    with system.sessions() as session:
        assert [c.size for c in system.ledger.checkpoints(session)] == [0, 2]


def test_a_rolled_back_transaction_leaves_no_leaf_node_or_checkpoint(
    system: bootstrap.System,
) -> None:
    _append(system, 0, 2)
    with pytest.raises(RuntimeError), system.sessions.begin() as session:
        system.ledger.append(session, [_leaf(2), _leaf(3)])
        raise RuntimeError("the caller's change failed")
    with system.sessions() as session:
        assert system.ledger.size(session) == 2
        assert [c.size for c in system.ledger.checkpoints(session)] == [2]
        # Leaf 1 completes the two leaves' parent; nothing of the rolled-back batch is left.
        assert [len(r.parents) for r in session.query(m.LedgerLeaf)] == [0, 32]
    assert _append(system, 2, 1) == [2]


def test_bad_leaves_and_sizes_are_refused_before_anything_is_written(
    system: bootstrap.System,
) -> None:
    _append(system, 0, 1)
    bad = {"v": 1, "type": "registry", "at": "x", "ratio": 0.5}
    with pytest.raises(InvalidInput, match="ratio"), system.sessions.begin() as session:
        system.ledger.append(session, [_leaf(1), bad])
    with system.sessions() as session:
        assert system.ledger.size(session) == 1
        with pytest.raises(InvalidInput, match="size 5"):
            system.ledger.root(session, 5)
        with pytest.raises(InvalidInput, match="leaf index 1"):
            system.ledger.inclusion_proof(session, 1)
        with pytest.raises(NotFound):
            system.ledger.leaf(session, 1)


def test_a_proof_over_a_tampered_node_fails(system: bootstrap.System) -> None:
    _append(system, 0, 8)
    with system.sessions() as session:
        root = system.ledger.root(session)
    # Node (1, 0), the parent of leaves 0 and 1, is stored in leaf 1's row; leaf 2's
    # proof reads it.
    with system.sessions.begin() as session:
        session.execute(
            update(m.LedgerLeaf).where(m.LedgerLeaf.idx == 1).values(parents=b"\x07" * 32)
        )
    with system.sessions() as session:
        leaf = system.ledger.leaf(session, 2)
        proof = system.ledger.inclusion_proof(session, 2)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(2, 8, leaf.leaf_hash, proof, root)


def test_appends_without_the_signing_key_fail_closed(system: bootstrap.System) -> None:
    keys.key_path(system.settings.keys_dir).unlink()
    fresh = bootstrap.build(system.settings)
    try:
        with pytest.raises(ConfigError, match="oversight init"):
            _append(fresh, 0, 1)
        with fresh.sessions() as session:
            assert fresh.ledger.size(session) == 0
    finally:
        fresh.close()


def test_the_signing_key_is_private_and_never_replaced(system: bootstrap.System) -> None:
    path = keys.key_path(system.settings.keys_dir)
    assert path.stat().st_mode & 0o777 == 0o600
    before = path.read_bytes()
    assert keys.ensure_key(system.settings.keys_dir, "other.example/log") is False
    assert path.read_bytes() == before
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        keys.load_signer(system.settings.keys_dir)


def test_a_writer_killed_mid_stream_loses_no_committed_batch_and_leaves_no_half_batch(
    system: bootstrap.System, tmp_path: Path
) -> None:
    writer = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("ledger_writer.py"))],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert writer.stdout is not None
    try:
        reported = 0
        while reported < 500:
            line = writer.stdout.readline()
            assert line, f"writer exited early with {writer.wait()}"
            reported = int(line)
        time.sleep(0.05)  # let it get into the middle of another batch
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    verifier = _verifier(system)
    with system.sessions() as session:
        size = system.ledger.size(session)
        # Every batch it reported as committed survived, and no batch is half there.
        assert size >= reported and size % 100 == 0
        assert [leaf.index for leaf in system.ledger.leaves(session)] == list(range(size))
        hashes = [leaf.leaf_hash for leaf in system.ledger.leaves(session)]
        latest = system.ledger.latest_checkpoint(session)
        assert latest is not None and latest.size == size
        checkpoint, _ = note.open_checkpoint(latest.note, [verifier])
        assert checkpoint.root_hash == merkle.root_hash(hashes)
    # The log carries on where the dead writer stopped.
    assert _append(system, size, 1) == [size]
