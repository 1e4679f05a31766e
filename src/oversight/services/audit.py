"""The register (Art. 14(3)): every recording, viewing, copy and retrieval, read from
the ledger (``segment_sealed`` and ``access`` leaves) with who, when, purpose and
destination."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain.people import Person
from oversight.errors import InvalidInput
from oversight.ledger import leaves
from oversight.services import authz

KINDS = leaves.REGISTER_TYPES
_CHUNK = 500  # leaves per query, well under every driver's parameter limit
MAX_PAGE = 10_000  # entries in one page of the register


@dataclass(frozen=True)
class Entry:
    leaf_index: int
    at: datetime
    action: str
    actors: tuple[str, ...]
    cameras: tuple[str, ...]
    target: str
    purpose: str
    destination: str
    grant: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "at": leaves.instant(self.at),
            "action": self.action,
            "actors": list(self.actors),
            "cameras": list(self.cameras),
            "target": self.target,
            "purpose": self.purpose,
            "destination": self.destination,
            "grant": self.grant,
            "details": self.details,
        }


def cameras_of(leaf: dict[str, Any]) -> list[str]:
    """The cameras a register leaf is about (a sealed segment's, or an access leaf's
    requested cameras and those of its uses)."""
    if leaf.get("type") == "segment_sealed":
        return [leaf["camera"]]
    details = dict(leaf.get("details", {}))
    cameras: list[str] = list(details.get("cameras", []))
    cameras += [u["camera"] for u in details.get("uses", []) if u["camera"] not in cameras]
    return cameras


def _entry(index: int, leaf: dict[str, Any]) -> Entry:
    at = leaves.parse_instant(leaf["at"])
    if leaf["type"] == "segment_sealed":
        return Entry(
            index,
            at,
            "record",
            ("recorder",),
            (leaf["camera"],),
            leaf["storage_key"],
            "",
            "",
            "",
            {"start": leaf["start"], "end": leaf["end"], "sha256": leaf["sha256"]},
        )
    details = dict(leaf.get("details", {}))
    cameras = cameras_of(leaf)
    return Entry(
        index,
        at,
        leaf["action"],
        tuple(leaf["actors"]),
        tuple(cameras),
        leaf["target"],
        leaf["purpose"],
        leaf["destination"],
        leaf["grant"],
        details,
    )


def _check_query(start: datetime | None, end: datetime | None) -> None:
    for moment, what in ((start, "--from"), (end, "--to")):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"{what} needs a time zone")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("--to must be after --from")


@dataclass(frozen=True)
class _Match:
    camera: str | None
    person: str | None
    start: datetime | None
    end: datetime | None
    # The reader's cameras (None: all): a scoped reader sees entries about them only.
    seen: frozenset[str] | None = None

    def entries(self, rows: Iterable[Any]) -> list[Entry]:
        """Entries of these (idx, data) rows that pass every filter, in row order."""
        out = []
        for index, data in rows:
            entry = _entry(index, leaves.decode(data))
            if self.camera is not None and self.camera not in entry.cameras:
                continue
            if self.person is not None and self.person not in entry.actors:
                continue
            if self.start is not None and entry.at < self.start:
                continue
            if self.end is not None and entry.at >= self.end:
                continue
            if self.seen is not None and not (entry.cameras and set(entry.cameras) <= self.seen):
                continue
            out.append(entry)
        return out


def log(
    system: System,
    actor: Person,
    *,
    camera: str | None = None,
    person: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Entry]:
    """Register entries, oldest first, filtered by camera, person (an actor) and time."""
    _check_query(start, end)
    with system.reads() as s:
        match = _Match(camera, person, start, end, _seen(s, actor, camera))
        if start is None and end is None:
            rows = s.execute(
                select(m.LedgerLeaf.idx, m.LedgerLeaf.data)
                .where(m.LedgerLeaf.kind.in_(KINDS))
                .order_by(m.LedgerLeaf.idx)
            ).all()
        else:
            rows = _in_period(s, start, end)
    return match.entries(rows)


@dataclass(frozen=True)
class Page:
    entries: list[Entry]  # oldest first
    older: int | None  # pass as ``before`` for the next older page; None: no older entries


def page(
    system: System,
    actor: Person,
    *,
    limit: int,
    before: int | None = None,
    camera: str | None = None,
    person: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Page:
    """The newest ``limit`` entries that match, among leaves below index ``before``.

    Walks ``register_times`` backwards by leaf index a chunk at a time and stops once the
    page is full, so the newest page costs O(limit) however long the ledger is (a full
    read decodes every leaf). A selective camera or person filter reads further back.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"the page size must be between 1 and {MAX_PAGE}")
    if before is not None and not 0 <= before <= m.MAX_LEAF:
        raise InvalidInput(f"before must be a leaf index (0 to {m.MAX_LEAF})")
    _check_query(start, end)
    terms = []
    if start is not None:
        terms.append(m.RegisterTime.at >= start)
    if end is not None:
        terms.append(m.RegisterTime.at < end)
    found: list[Entry] = []  # newest first
    bound = before
    with system.reads() as s:
        match = _Match(camera, person, start, end, _seen(s, actor, camera))
        while len(found) <= limit:  # one more than the page tells whether older ones exist
            query = select(m.RegisterTime.idx).where(*terms)
            if bound is not None:
                query = query.where(m.RegisterTime.idx < bound)
            chunk = list(s.scalars(query.order_by(m.RegisterTime.idx.desc()).limit(_CHUNK)))
            if not chunk:
                break
            rows = _leaves(s, chunk)
            found += reversed(match.entries(rows))
            bound = chunk[-1]
    shown = found[:limit]
    older = shown[-1].leaf_index if len(found) > limit else None
    return Page(list(reversed(shown)), older)


def _seen(s: Session, actor: Person, camera: str | None) -> frozenset[str] | None:
    """The cameras whose entries ``actor`` may read (``audit.read``; None: all)."""
    if camera is not None:
        authz.on_cameras(s, actor, "audit.read", [camera])
    return authz.visible_cameras(s, actor, "audit.read")


def _leaves(s: Session, indexes: Sequence[int]) -> list[Any]:
    """(idx, data) of these register leaves, by index: a stray time row that points at a
    leaf outside the register must not make it an entry."""
    rows = s.execute(
        select(m.LedgerLeaf.idx, m.LedgerLeaf.data).where(
            m.LedgerLeaf.idx.in_(indexes), m.LedgerLeaf.kind.in_(KINDS)
        )
    ).all()
    return sorted(rows, key=lambda r: r[0])


def _in_period(s: Session, start: datetime | None, end: datetime | None) -> list[Any]:
    """The register's leaves of [start, end): their indexes from ``register_times``
    (one index range), then those leaves by primary key, a chunk at a time."""
    terms = []
    if start is not None:
        terms.append(m.RegisterTime.at >= start)
    if end is not None:
        terms.append(m.RegisterTime.at < end)
    indexes = list(s.scalars(select(m.RegisterTime.idx).where(*terms)))
    rows: list[Any] = []
    for first in range(0, len(indexes), _CHUNK):
        rows += _leaves(s, indexes[first : first + _CHUNK])
    return sorted(rows, key=lambda r: r[0])
