"""Migration 0010 moves the stored subtree hashes from ``ledger_nodes`` into the leaf
rows, on SQLite and PostgreSQL: every hash survives, proofs from the migrated log
verify against the old root, and the downgrade restores the old table exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from oversight import bootstrap
from oversight.config import Settings
from oversight.db.migrate import alembic_config
from oversight.ledger import merkle
from tests.conftest import Env

LEAVES = 21  # not a power of two: right-edge leaves and several frontier subtrees
AT = datetime(2026, 5, 1, tzinfo=UTC)


def _old_format_log(url: str) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Write a log the way revision 0009 stored it: leaves, and nodes in their own table."""
    data = [b'{"n":%d,"type":"registry","v":1}' % i for i in range(LEAVES)]
    hashes = [merkle.leaf_hash(d) for d in data]
    stored: dict[tuple[int, int], bytes] = {}
    nodes: list[tuple[int, int, bytes]] = []
    for i, h in enumerate(hashes):
        stored[(0, i)] = h
        for node in merkle.subtree_hashes_to_store(i, h, lambda lv, n: stored[(lv, n)])[1:]:
            stored[(node.level, node.n)] = node.hash
            nodes.append((node.level, node.n, node.hash))
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for i, d in enumerate(data):
                conn.execute(
                    text(
                        "INSERT INTO ledger_leaves (idx, kind, data, leaf_hash, created_at) "
                        "VALUES (:i, 'registry', :d, :h, :t)"
                    ),
                    {"i": i, "d": d, "h": hashes[i], "t": AT},
                )
            for level, n, h in nodes:
                conn.execute(
                    text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (:l, :n, :h)"),
                    {"l": level, "n": n, "h": h},
                )
    finally:
        engine.dispose()
    return hashes, nodes


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _migrate(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            step(cfg, revision)
    finally:
        engine.dispose()


def test_stored_subtree_hashes_move_into_leaf_rows_and_back(env: Env) -> None:
    env.data_dir.mkdir(parents=True)
    _migrate(env.url, command.upgrade, "0009")
    hashes, nodes = _old_format_log(env.url)

    _migrate(env.url, command.upgrade, "head")
    parents = dict(_rows(env.url, "SELECT idx, parents FROM ledger_leaves"))
    for level, n, h in nodes:
        holder = ((n + 1) << level) - 1
        assert bytes(parents[holder])[(level - 1) * 32 : level * 32] == h  # type: ignore[index]
    assert sum(len(bytes(p)) for p in parents.values()) == 32 * len(nodes)  # type: ignore[arg-type]

    env.ok("init")  # an already-migrated deployment: init only adds the signing key
    system = bootstrap.build(Settings())
    try:
        with system.sessions() as session:
            root = system.ledger.root(session)
            assert root == merkle.root_hash(hashes)
            for index in (0, 7, 16, 20):
                proof = system.ledger.inclusion_proof(session, index)
                merkle.verify_inclusion(index, LEAVES, hashes[index], proof, root)
    finally:
        system.close()

    _migrate(env.url, command.downgrade, "0009")
    restored = _rows(env.url, "SELECT level, idx, hash FROM ledger_nodes ORDER BY level, idx")
    assert [(int(lv), int(n), bytes(h)) for lv, n, h in restored] == sorted(nodes)  # type: ignore[call-overload]
