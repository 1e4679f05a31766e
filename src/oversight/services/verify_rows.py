"""The rows ``oversight verify`` reads, as the database holds them, each value checked for
its type before it is used.

SQLite stores whatever an UPDATE gives it (a text in an integer column, garbage in a
date, a number in a hash column), and the ORM's result processing would raise on such a
row in the middle of a verification (finding 16 of issue 18). So these reads take the
raw driver values and report every value of the wrong type as a ``malformed`` finding
naming the row and column; the row is then skipped (or, for a leaf, stands in with what
can still be used) and the verification goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from oversight.db import models as m
from oversight.ledger import merkle

_T = TypeVar("_T")

Report = Callable[[str, str], None]
"""Called with (object, detail) for each malformed row."""


class _Wrong(Exception):
    def __init__(self, column: str, value: object, want: str) -> None:
        super().__init__(f"{column} holds {_show(value)}, not {want}")


def _show(value: object) -> str:
    if value is None:
        return "NULL"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _raw(session: Session, model: Any, columns: Sequence[str], order: str) -> Iterator[Any]:
    """Rows of ``columns`` with no result processing: the driver's own values."""
    table = model.__table__
    cols = [type_coerce(table.c[c], NullType()).label(c) for c in columns]
    return iter(session.execute(select(*cols).order_by(table.c[order])))


def _int(row: Any, column: str) -> int:
    value = row._mapping[column]
    if type(value) is not int:
        raise _Wrong(column, value, "an integer")
    return value


def _bytes(row: Any, column: str, size: int | None = None) -> bytes:
    value = row._mapping[column]
    if not isinstance(value, bytes | memoryview):
        raise _Wrong(column, value, "bytes")
    data = bytes(value)
    if size is not None and len(data) != size:
        raise _Wrong(column, value, f"{size} bytes")
    return data


def _str(row: Any, column: str) -> str:
    value = row._mapping[column]
    if not isinstance(value, str):
        raise _Wrong(column, value, "text")
    return value


def _instant(row: Any, column: str, *, nullable: bool = False) -> datetime | None:
    value = row._mapping[column]
    if value is None and nullable:
        return None
    if isinstance(value, str):  # SQLite keeps instants as ISO text in UTC
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _Wrong(column, value, "a date-time") from None
    if not isinstance(value, datetime):
        raise _Wrong(column, value, "a date-time")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _key(row: Any, column: str) -> str:
    """A row's key for the finding's object: the number, or the repr of what is there."""
    value = row._mapping[column]
    return str(value) if type(value) is int else repr(value)[:40]


# ---- the ledger -----------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    index: int
    kind: str | None  # None: malformed (reported), so judged as no type at all
    data: bytes | None  # None: malformed (reported)
    leaf_hash: bytes  # recomputed from data when the stored one is malformed


_LEAF = ("idx", "kind", "data", "leaf_hash", "created_at")


def leaves(session: Session, malformed: Report) -> list[Leaf]:
    out: list[Leaf] = []
    for row in _raw(session, m.LedgerLeaf, _LEAF, "idx"):
        try:
            index = _int(row, "idx")
        except _Wrong as exc:
            malformed(f"ledger leaf {_key(row, 'idx')}", str(exc))
            continue
        name = f"ledger leaf {index}"
        kind = _or_none(name, malformed, _str, row, "kind")
        data = _or_none(name, malformed, _bytes, row, "data")
        stored = _or_none(name, malformed, _hash, row, "leaf_hash")
        _or_none(name, malformed, _instant, row, "created_at")
        out.append(Leaf(index, kind, data, stored if stored is not None else _rehash(data)))
    return out


def _or_none(
    name: str, malformed: Report, read: Callable[[Any, str], _T], row: Any, column: str
) -> _T | None:
    try:
        return read(row, column)
    except _Wrong as exc:
        malformed(name, str(exc))
        return None


def _hash(row: Any, column: str) -> bytes:
    return _bytes(row, column, merkle.HASH_SIZE)


def _rehash(data: bytes | None) -> bytes:
    # Neither hash nor bytes: a placeholder that no checkpoint's root can match.
    return merkle.leaf_hash(data) if data is not None else bytes(merkle.HASH_SIZE)


def subtree_rows(session: Session, below: int, malformed: Report) -> Iterator[tuple[int, bytes]]:
    """(leaf index, stored subtree hashes) of the leaves below ``below``."""
    for row in _raw(session, m.LedgerLeaf, ("idx", "parents"), "idx"):
        try:
            idx = _int(row, "idx")
            if idx >= below:
                continue
            yield idx, _bytes(row, "parents")
        except _Wrong as exc:
            malformed(f"ledger leaf {_key(row, 'idx')}", str(exc))


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: bytes
    note: str


def checkpoints(session: Session, malformed: Report) -> list[Checkpoint]:
    out: list[Checkpoint] = []
    columns = ("size", "root", "note", "created_at")
    for row in _raw(session, m.LedgerCheckpoint, columns, "size"):
        try:
            cp = Checkpoint(_int(row, "size"), _hash(row, "root"), _str(row, "note"))
            _instant(row, "created_at")
        except _Wrong as exc:
            malformed(f"checkpoint {_key(row, 'size')}", str(exc))
            continue
        out.append(cp)
    # Sorted by the database, which orders mixed types its own way: sort the good ones.
    return sorted(out, key=lambda c: c.size)


# ---- the index ------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    camera_id: str
    seq: int
    size_bytes: int
    sha256: str
    storage_key: str
    leaf_index: int
    deleted: bool
    start_at: datetime
    end_at: datetime
    node: str | None  # a pool's sealer, its lease epoch, and whether it had lost it
    epoch: int | None
    late: bool
    copy: int  # which recording of a redundant camera


_SEGMENT = (
    "id", "camera_id", "seq", "bytes", "sha256", "storage_key", "leaf_index", "deleted_at",
    "start_at", "end_at", "node", "epoch", "late", "copy",
)  # fmt: skip


def _optional(read: Callable[[Any, str], _T], row: Any, column: str) -> _T | None:
    return None if row._mapping[column] is None else read(row, column)


def _flag(row: Any, column: str) -> bool:
    value = row._mapping[column]
    if value in (0, 1) and type(value) in (bool, int):  # SQLite stores 0/1
        return bool(value)
    raise _Wrong(column, value, "a boolean")


def segments(session: Session, malformed: Report) -> tuple[list[Segment], set[str]]:
    """The well-formed index rows, and the storage keys of the malformed ones (reported:
    their footage is not also reported as unindexed)."""
    out: list[Segment] = []
    bad_keys: set[str] = set()
    for row in _raw(session, m.Segment, _SEGMENT, "id"):
        try:
            out.append(
                Segment(
                    _str(row, "camera_id"),
                    _int(row, "seq"),
                    _int(row, "bytes"),
                    _str(row, "sha256"),
                    _str(row, "storage_key"),
                    _int(row, "leaf_index"),
                    _instant(row, "deleted_at", nullable=True) is not None,
                    _required_instant(row, "start_at"),
                    _required_instant(row, "end_at"),
                    _optional(_str, row, "node"),
                    _optional(_int, row, "epoch"),
                    _flag(row, "late"),
                    _int(row, "copy"),
                )
            )
        except _Wrong as exc:
            malformed(f"segment row {_key(row, 'id')}", str(exc))
            key = row._mapping["storage_key"]
            if isinstance(key, str):
                bad_keys.add(key)
    return out, bad_keys


def _required_instant(row: Any, column: str) -> datetime:
    moment = _instant(row, column)
    assert moment is not None  # not nullable: _instant raised _Wrong for a NULL
    return moment


@dataclass(frozen=True)
class Gap:
    row_id: int
    camera_id: str
    start_at: datetime
    end_at: datetime
    reason: str
    leaf_index: int
    copy: int


def gaps(session: Session, malformed: Report) -> list[Gap]:
    """The well-formed gap rows (malformed ones are reported)."""
    out: list[Gap] = []
    columns = ("id", "camera_id", "start_at", "end_at", "reason", "leaf_index", "copy")
    for row in _raw(session, m.Gap, columns, "id"):
        try:
            out.append(
                Gap(
                    _int(row, "id"),
                    _str(row, "camera_id"),
                    _required_instant(row, "start_at"),
                    _required_instant(row, "end_at"),
                    _str(row, "reason"),
                    _int(row, "leaf_index"),
                    _int(row, "copy"),
                )
            )
        except _Wrong as exc:
            malformed(f"gap row {_key(row, 'id')}", str(exc))
    return out


def register_times(session: Session, malformed: Report) -> dict[int, datetime | None]:
    """Leaf index -> time of the register's time index; None for a malformed time
    (reported), so the row exists but matches no leaf."""
    out: dict[int, datetime | None] = {}
    for row in _raw(session, m.RegisterTime, ("idx", "at"), "idx"):
        try:
            idx = _int(row, "idx")
        except _Wrong as exc:
            malformed(f"register entry {_key(row, 'idx')}", str(exc))
            continue
        try:
            out[idx] = _instant(row, "at")
        except _Wrong as exc:
            malformed(f"register entry {idx}", str(exc))
            out[idx] = None
    return out
