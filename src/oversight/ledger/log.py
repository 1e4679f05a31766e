"""The persistent Merkle log: leaves, stored subtree hashes and signed checkpoints.

Appends run inside the caller's transaction, so a leaf commits or rolls back with the
change it records (a registry row, a segment index row). Each append:

1. takes the log's write lock (SQLite: the ``BEGIN IMMEDIATE`` every transaction takes;
   PostgreSQL: a transaction-scoped advisory lock), so leaf indexes never race;
2. reads the *frontier*, the at most log2(n) perfect subtrees that make up the tree;
3. inserts the leaves, each row with every perfect-subtree hash that leaf completes
   (the tlog-tiles "stored hash" set; see ``merkle.subtree_hashes_to_store``): level
   0 is the leaf hash, and node (L, n) for L >= 1 sits in the ``parents`` column of
   leaf ``((n + 1) << L) - 1``, so one row per leaf is written;
4. signs a checkpoint for the new size and stores it, in the same transaction.

So a committed leaf is always covered by a signed checkpoint, a crash rolls back a
whole batch, and proofs cost one indexed read of O(log n) rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from oversight.db import models as m
from oversight.db.driver import bind_value, binder, placeholder
from oversight.errors import InvalidInput, NotFound
from oversight.ledger import merkle, note
from oversight.ledger.leaves import REGISTER_TYPES, canonical, parse_instant

# pg_advisory_xact_lock key: "OVRSLOG" in ASCII, any fixed 64-bit number would do.
_PG_LOCK_KEY = 0x4F5652534C4F47
HASH = merkle.HASH_SIZE
_DUMMY = b"\x00" * HASH
_CHUNK = 500  # row lookups per query, well under every driver's parameter limit


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    created_at: datetime


@dataclass(frozen=True)
class StoredLeaf:
    index: int
    kind: str
    data: bytes
    leaf_hash: bytes
    created_at: datetime


Key = tuple[int, int]


def _needed(fn: Callable[[merkle.NodeGetter], object]) -> set[Key]:
    """The (level, index) nodes ``fn`` asks for: which nodes a proof reads depends
    only on the sizes, never on hash values, so a dry run finds them all up front."""
    asked: set[Key] = set()

    def record(level: int, index: int) -> bytes:
        asked.add((level, index))
        return _DUMMY

    fn(record)
    return asked


def _holder(key: Key) -> int:
    """The leaf whose row stores node ``key``: the last leaf of its subtree."""
    level, n = key
    return ((n + 1) << level) - 1


class Ledger:
    """The log of one deployment. Stateless between calls; safe to share."""

    def __init__(
        self,
        origin: str,
        signers: Callable[[], Sequence[note.Signer]],
        clock: Callable[[], datetime],
    ):
        self.origin = origin
        self._signers = signers  # asked at each append: a key rotation takes effect at once
        self._now = clock

    # ---- writing -------------------------------------------------------------------

    def append(self, session: Session, entries: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append leaf objects (see ``leaves``) in the caller's transaction; their indexes.

        The batch is checkpointed before returning, so once the caller commits, the
        leaves are durable and covered by a signed checkpoint.
        """
        if not entries:
            return []
        encoded = [(str(e.get("type", "")), canonical(e)) for e in entries]
        register = [  # (position in the batch, when) of the register's leaves
            (i, parse_instant(e.get("at")))
            for i, (e, (kind, _)) in enumerate(zip(entries, encoded, strict=True))
            if kind in REGISTER_TYPES
        ]
        signers = self.signers()  # fail before writing anything if a key is unusable
        self.lock(session)
        size = self.size(session)
        keys = merkle.Frontier.keys(size)
        stored = self._fetch(session, set(keys))
        missing = [k for k in keys if k not in stored]
        if missing:
            raise InvalidInput(f"ledger node {missing[0]} is missing")
        frontier = merkle.Frontier(size, [stored[k] for k in keys])

        now = self._now()
        conn = session.connection()
        created = bind_value(conn, m.LedgerLeaf.__table__.c.created_at, now)
        hashed = frontier.extend([data for _, data in encoded])
        # One pass builds the rows; plain DBAPI executemany: the ORM's per-row work would
        # cost more than the hashing.
        rows = [
            (index, kind, data, leaf_hash, parents, created)
            for index, (kind, data), (leaf_hash, parents) in zip(
                itertools.count(size), encoded, hashed
            )
        ]
        mark = placeholder(conn)
        conn.exec_driver_sql(
            "INSERT INTO ledger_leaves (idx, kind, data, leaf_hash, parents, created_at) "  # noqa: S608
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark})",  # the driver's placeholder
            rows,
        )
        if register:
            bind = binder(conn, m.RegisterTime.__table__.c.at)
            conn.exec_driver_sql(
                f"INSERT INTO register_times (idx, at) VALUES ({mark}, {mark})",  # noqa: S608
                [(size + i, bind(when)) for i, when in register],
            )
        new_size = size + len(encoded)
        self._store_checkpoint(session, signers, new_size, frontier.root(), now)
        return list(range(size, new_size))

    def publish(self, session: Session) -> StoredCheckpoint:
        """A signed checkpoint of the current tree, made now unless one already covers it."""
        signers = self.signers()
        self.lock(session)
        size = self.size(session)
        existing = session.get(m.LedgerCheckpoint, size)
        if existing is None:
            self._store_checkpoint(session, signers, size, self.root(session, size), self._now())
            existing = session.get(m.LedgerCheckpoint, size)
            assert existing is not None
        return _checkpoint(existing)

    def signer(self) -> note.Signer:
        """The current key (evidence packages and proofs are signed with it alone)."""
        return self.signers()[0]

    def signers(self) -> Sequence[note.Signer]:
        """Every key a checkpoint is signed with now: the current one first, then a
        retiring one between a rotation and its retirement (ledger/keys.py)."""
        return self._signers()

    def lock(self, session: Session) -> None:
        """Take the log's write lock for the rest of the caller's transaction."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})

    def _store_checkpoint(
        self,
        session: Session,
        signers: Sequence[note.Signer],
        size: int,
        root: bytes,
        now: datetime,
    ) -> None:
        signed = note.sign_checkpoint(note.Checkpoint(self.origin, size, root), signers)
        conn = session.connection()
        mark = placeholder(conn)
        created = bind_value(conn, m.LedgerCheckpoint.__table__.c.created_at, now)
        conn.exec_driver_sql(  # one row per append: the ORM's insert cost more than signing
            "INSERT INTO ledger_checkpoints (size, root, note, created_at) "  # noqa: S608
            f"VALUES ({mark}, {mark}, {mark}, {mark})",  # the driver's placeholder
            (size, root, signed, created),
        )

    # ---- reading -------------------------------------------------------------------

    def size(self, session: Session) -> int:
        # Driver SQL: every append asks, and the ORM's statement handling cost more than
        # the query (the last rowid on SQLite, the primary key's last entry elsewhere).
        last = session.connection().exec_driver_sql("SELECT max(idx) FROM ledger_leaves").scalar()
        return 0 if last is None else int(last) + 1

    def _fetch(self, session: Session, keys: set[Key]) -> dict[Key, bytes]:
        """Read stored hashes by (level, idx): one primary-key lookup per leaf row that
        holds them (see ``_holder``), one round trip per chunk of rows."""
        wanted: dict[int, list[Key]] = {}
        for key in keys:
            wanted.setdefault(_holder(key), []).append(key)
        found: dict[Key, bytes] = {}
        rows_wanted = sorted(wanted)
        conn = session.connection()
        mark = placeholder(conn)
        for start in range(0, len(rows_wanted), _CHUNK):
            chunk = rows_wanted[start : start + _CHUNK]
            marks = ", ".join([mark] * len(chunk))  # placeholders only; values are parameters
            rows = conn.exec_driver_sql(
                f"SELECT idx, leaf_hash, parents FROM ledger_leaves WHERE idx IN ({marks})",  # noqa: S608
                tuple(chunk),
            )
            for idx, leaf_hash, parents in rows:
                for level, n in wanted[int(idx)]:
                    if level == 0:
                        found[(0, n)] = bytes(leaf_hash)
                    else:
                        h = bytes(parents[(level - 1) * HASH : level * HASH])
                        if len(h) == HASH:
                            found[(level, n)] = h
        return found

    def _getter(
        self, session: Session, fn: Callable[[merkle.NodeGetter], object]
    ) -> merkle.NodeGetter:
        nodes = self._fetch(session, _needed(fn))

        def get(level: int, index: int) -> bytes:
            try:
                return nodes[(level, index)]
            except KeyError:
                raise NotFound(f"the ledger has no node ({level}, {index})") from None

        return get

    def _check_size(self, session: Session, size: int | None) -> int:
        current = self.size(session)
        if size is None:
            return current
        if not 0 <= size <= current:
            raise InvalidInput(f"tree size {size} is not between 0 and the log size {current}")
        return size

    def root(self, session: Session, size: int | None = None) -> bytes:
        n = self._check_size(session, size)
        return merkle.tree_hash(n, self._getter(session, lambda g: merkle.tree_hash(n, g)))

    def inclusion_proof(self, session: Session, index: int, size: int | None = None) -> list[bytes]:
        n = self._check_size(session, size)
        if not 0 <= index < n:
            raise InvalidInput(f"leaf index {index} is not in a tree of size {n}")
        return merkle.inclusion_proof(
            index, n, self._getter(session, lambda g: merkle.inclusion_proof(index, n, g))
        )

    def consistency_proof(
        self, session: Session, size1: int, size2: int | None = None
    ) -> list[bytes]:
        n = self._check_size(session, size2)
        if not 0 <= size1 <= n:
            raise InvalidInput(f"no consistency proof from size {size1} to size {n}")
        return merkle.consistency_proof(
            size1, n, self._getter(session, lambda g: merkle.consistency_proof(size1, n, g))
        )

    def leaf(self, session: Session, index: int) -> StoredLeaf:
        row = session.get(m.LedgerLeaf, index)
        if row is None:
            raise NotFound(f"the ledger has no leaf {index}")
        return StoredLeaf(row.idx, row.kind, bytes(row.data), bytes(row.leaf_hash), row.created_at)

    def leaves(self, session: Session, start: int = 0, stop: int | None = None) -> list[StoredLeaf]:
        query = select(m.LedgerLeaf).where(m.LedgerLeaf.idx >= start).order_by(m.LedgerLeaf.idx)
        if stop is not None:
            query = query.where(m.LedgerLeaf.idx < stop)
        return [
            StoredLeaf(r.idx, r.kind, bytes(r.data), bytes(r.leaf_hash), r.created_at)
            for r in session.scalars(query)
        ]

    def latest_checkpoint(self, session: Session) -> StoredCheckpoint | None:
        row = session.scalars(
            select(m.LedgerCheckpoint).order_by(m.LedgerCheckpoint.size.desc()).limit(1)
        ).first()
        return None if row is None else _checkpoint(row)

    def checkpoints(self, session: Session, since: int = 0) -> list[StoredCheckpoint]:
        rows = session.scalars(
            select(m.LedgerCheckpoint)
            .where(m.LedgerCheckpoint.size >= since)
            .order_by(m.LedgerCheckpoint.size)
        )
        return [_checkpoint(r) for r in rows]


def _checkpoint(row: m.LedgerCheckpoint) -> StoredCheckpoint:
    return StoredCheckpoint(row.size, bytes(row.root), row.note, row.created_at)
