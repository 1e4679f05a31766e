"""The register (Art. 14(3)): every recording, viewing, copy and retrieval, read from
the ledger (``segment_sealed`` and ``access`` leaves) with who, when, purpose and
destination."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.errors import InvalidInput
from oversight.ledger import leaves

KINDS = leaves.REGISTER_TYPES
_CHUNK = 500  # leaves per query, well under every driver's parameter limit


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
    cameras: list[str] = list(details.get("cameras", []))
    cameras += [u["camera"] for u in details.get("uses", []) if u["camera"] not in cameras]
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


def log(
    system: System,
    *,
    camera: str | None = None,
    person: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Entry]:
    """Register entries, oldest first, filtered by camera, person (an actor) and time."""
    for moment, what in ((start, "--from"), (end, "--to")):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"{what} needs a time zone")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("--to must be after --from")
    with system.reads() as s:
        if start is None and end is None:
            rows = s.execute(
                select(m.LedgerLeaf.idx, m.LedgerLeaf.data)
                .where(m.LedgerLeaf.kind.in_(KINDS))
                .order_by(m.LedgerLeaf.idx)
            ).all()
        else:
            rows = _in_period(s, start, end)
    out = []
    for index, data in rows:
        entry = _entry(index, leaves.decode(data))
        if camera is not None and camera not in entry.cameras:
            continue
        if person is not None and person not in entry.actors:
            continue
        if start is not None and entry.at < start:
            continue
        if end is not None and entry.at >= end:
            continue
        out.append(entry)
    return out


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
        chunk = indexes[first : first + _CHUNK]
        rows += s.execute(
            select(m.LedgerLeaf.idx, m.LedgerLeaf.data).where(
                m.LedgerLeaf.idx.in_(chunk),
                m.LedgerLeaf.kind.in_(KINDS),  # a stray row must not make a leaf an entry
            )
        ).all()
    return sorted(rows, key=lambda r: r[0])
