"""The register (Art. 14(3)): every recording, viewing, copy and retrieval, read from
the ledger (``segment_sealed`` and ``access`` leaves) with who, when, purpose and
destination."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
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
MAX_ACTION = 64  # characters of an action filter
# The families of register actions (the first word of an access leaf's action; a
# sealed segment is ``record``). An action filter names a family or one action in it
# (``view`` is every viewing, ``view.probe`` only probes); ``refused`` every refusal.
FAMILIES = (
    "record",
    "view",
    "export",
    "request",
    "approve",
    "deny",
    "revoke",
    "execute",
    "delete",
    "retention",
    "document",
    "camera",
    "host",
    "incident",
    "reference",
    "refused",
)
_ACTION = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)*")
MAX_REQUEST = 2**31 - 1  # request ids are 32-bit integer keys


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
    request: str = ""  # the access request it belongs to ("": none)

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
            "request": self.request,
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


def _entry(index: int, leaf: dict[str, Any], requests: dict[str, str]) -> Entry:
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
            {
                "start": leaf["start"],
                "end": leaf["end"],
                "sha256": leaf["sha256"],
                "bytes": leaf["bytes"],
            },
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
        _request_of(leaf, details, requests),
    )


def _request_of(leaf: dict[str, Any], details: dict[str, Any], requests: dict[str, str]) -> str:
    """The request an access leaf belongs to: named in its details (a release), its
    target (``request:N``: entered, approved, denied) or through its grant."""
    named = details.get("request")
    if isinstance(named, str) and named.isdigit():
        return named
    kind, _, ident = str(leaf.get("target", "")).partition(":")
    if kind == "request" and ident.isdigit():
        return ident
    return requests.get(str(leaf.get("grant", "")), "")


def check_action(value: str | None) -> str | None:
    """An action filter: a family of ``FAMILIES`` or an action in one; else refused."""
    if value is None:
        return None
    if len(value) > MAX_ACTION:
        raise InvalidInput(f"the action filter is longer than {MAX_ACTION} characters")
    if not _ACTION.fullmatch(value) or value.split(".")[0] not in FAMILIES:
        raise InvalidInput(
            f"unknown action {value!r}: give one of {', '.join(FAMILIES)}, "
            "or an action in one of them (view.probe)"
        )
    return value


def check_request(value: str | None) -> int | None:
    """A request filter: the id of an access request (a positive integer)."""
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_REQUEST:
        raise InvalidInput(f"request must be the number of an access request, not {value!r}")
    return int(value)


def action_matches(wanted: str, action: str) -> bool:
    if wanted == "refused":
        return action.endswith(".refused")
    return action == wanted or action.startswith(wanted + ".")


def _check_query(start: datetime | None, end: datetime | None) -> None:
    for moment, what in ((start, "--from"), (end, "--to")):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"{what} needs a time zone")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("--to must be after --from")


@dataclass(frozen=True)
class Query:
    """What the register is filtered by (each None: any)."""

    camera: str | None = None
    person: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    action: str | None = None
    request: int | None = None

    def kinds(self) -> tuple[str, ...]:
        """The leaf types that can match: a filter on an access's fields rules out
        sealed segments (most of the ledger) in SQL."""
        if self.action == "record":
            return ("segment_sealed",)
        if self.action is not None or self.request is not None:
            return ("access",)
        if self.person is not None and self.person != "recorder":
            return ("access",)
        return KINDS


@dataclass(frozen=True)
class _Match:
    query: Query
    # The reader's cameras (None: all): a scoped reader sees entries about them only.
    seen: frozenset[str] | None = None

    def keep(self, entry: Entry) -> bool:
        q = self.query
        if q.camera is not None and q.camera not in entry.cameras:
            return False
        if q.person is not None and q.person not in entry.actors:
            return False
        if q.start is not None and entry.at < q.start:
            return False
        if q.end is not None and entry.at >= q.end:
            return False
        if q.action is not None and not action_matches(q.action, entry.action):
            return False
        if q.request is not None and entry.request != str(q.request):
            return False
        return self.seen is None or bool(entry.cameras and set(entry.cameras) <= self.seen)

    def entries(self, s: Session, rows: Iterable[Any]) -> list[Entry]:
        """Entries of these (idx, data) rows that pass every filter, in row order."""
        decoded = [(index, leaves.decode(data)) for index, data in rows]
        requests = _grant_requests(s, {str(leaf.get("grant", "")) for _, leaf in decoded})
        found = (_entry(index, leaf, requests) for index, leaf in decoded)
        return [entry for entry in found if self.keep(entry)]


def _grant_requests(s: Session, grants: set[str]) -> dict[str, str]:
    """grant id -> its request id, for the grants named by some leaves."""
    ids = [int(g) for g in grants if g.isdigit() and int(g) <= MAX_REQUEST]
    if not ids:
        return {}
    rows = s.execute(
        select(m.AccessGrant.id, m.AccessGrant.request_id).where(m.AccessGrant.id.in_(ids))
    ).all()
    return {str(g): str(r) for g, r in rows}


def log(
    system: System,
    actor: Person,
    *,
    camera: str | None = None,
    person: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    action: str | None = None,
    request: int | None = None,
) -> list[Entry]:
    """Register entries, oldest first, filtered by camera, person (an actor), time,
    action and request."""
    query = Query(camera, person, start, end, check_action(action), request)
    _check_query(start, end)
    with system.reads() as s:
        match = _Match(query, _seen(s, actor, camera))
        if start is None and end is None:
            rows = s.execute(
                select(m.LedgerLeaf.idx, m.LedgerLeaf.data)
                .where(m.LedgerLeaf.kind.in_(query.kinds()))
                .order_by(m.LedgerLeaf.idx)
            ).all()
        else:
            rows = _in_period(s, start, end)
        out: list[Entry] = []
        for first in range(0, len(rows), _CHUNK):
            out += match.entries(s, rows[first : first + _CHUNK])
    return out


@dataclass(frozen=True)
class Page:
    entries: list[Entry]  # oldest first
    older: int | None  # pass as ``before`` for the next older page; None: no older entries


@dataclass
class Scan:
    """The register's leaves that match, newest first, a chunk of leaves at a time:
    each step is one indexed query with a LIMIT, so a page reads only what it shows
    (and what its filters pass over), never the whole ledger."""

    s: Session
    match: _Match
    before: int | None
    read: int = 0  # leaves read so far
    lowest: int | None = None  # the lowest leaf index read

    def chunks(self) -> Iterator[list[Entry]]:
        q = self.match.query
        terms: list[ColumnElement[bool]] = [m.LedgerLeaf.kind.in_(q.kinds())]
        if q.start is not None:
            terms.append(m.RegisterTime.at >= q.start)
        if q.end is not None:
            terms.append(m.RegisterTime.at < q.end)
        bound = self.before
        timed = q.start is not None or q.end is not None
        # Without a period, walk the ledger's primary key backwards (no join: the
        # planner cannot pick a scan of the whole table); with one, the time index.
        order = m.RegisterTime.idx if timed else m.LedgerLeaf.idx
        while True:
            query = select(m.LedgerLeaf.idx, m.LedgerLeaf.data).where(*terms)
            if timed:
                query = query.join(m.RegisterTime, m.RegisterTime.idx == m.LedgerLeaf.idx)
            if bound is not None:
                query = query.where(order < bound)
            rows = self.s.execute(query.order_by(order.desc()).limit(_CHUNK)).all()
            if not rows:
                return
            self.read += len(rows)
            bound = self.lowest = rows[-1][0]
            yield list(reversed(self.match.entries(self.s, reversed(rows))))


def scan(s: Session, actor: Person, query: Query, before: int | None) -> Scan:
    """A :class:`Scan` of ``query`` below leaf ``before``, checked and scoped."""
    if before is not None and not 0 <= before <= m.MAX_LEAF:
        raise InvalidInput(f"before must be a leaf index (0 to {m.MAX_LEAF})")
    check_action(query.action)
    _check_query(query.start, query.end)
    return Scan(s, _Match(query, _seen(s, actor, query.camera)), before)


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
    action: str | None = None,
    request: int | None = None,
) -> Page:
    """The newest ``limit`` entries that match, among leaves below index ``before``.

    Walks ``register_times`` backwards by leaf index a chunk at a time and stops once the
    page is full, so the newest page costs O(limit) however long the ledger is (a full
    read decodes every leaf). A selective camera or person filter reads further back.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"the page size must be between 1 and {MAX_PAGE}")
    found: list[Entry] = []  # newest first
    with system.reads() as s:
        walk = scan(s, actor, Query(camera, person, start, end, action, request), before)
        for chunk in walk.chunks():
            found += chunk
            if len(found) > limit:  # one more than the page tells whether older ones exist
                break
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
