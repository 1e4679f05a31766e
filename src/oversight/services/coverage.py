"""Coverage of one camera over a time range: what is recorded, what is missing, what
is marked important or held. Feeds the console's timeline picture and the API.

Adjacent segments (less than ``JOIN_S`` apart) are merged into one recorded span, so
30 days of 60 s segments become a handful of spans, not 43,200 rectangles.

Reading 43,200 rows costs more than the 50 ms a timeline may take, so each process
keeps, per camera, the live segments' times (sorted arrays of microseconds) and their
merged spans, and brings them up to date from the ledger: every sealed segment and
every deletion is a ledger leaf, so an unchanged ledger means an unchanged index; new
leaves without a deletion mean only segments with a higher id to add; a deletion (a
purge, rare) means a rebuild. ``merge`` is the rule, on datetimes; ``_merge_us`` the
same rule on the cached integers.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.errors import InvalidInput, NotFound
from oversight.services import windows
from oversight.services.recording import utc

JOIN_S = 1.5
OTHER_COPY_JOIN_S = 0.5  # domain/copies.py SEAM: what one recording's segments leave between them
MAX_RANGE = timedelta(days=400)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Coverage:
    camera: str
    start: datetime
    end: datetime
    recorded: list[Span]
    gaps: list[Span]
    important: list[Span]
    held: list[Span]
    segments: int

    @property
    def recorded_seconds(self) -> float:
        return sum((s.end - s.start).total_seconds() for s in self.recorded)

    @property
    def fraction(self) -> float:
        total = (self.end - self.start).total_seconds()
        return self.recorded_seconds / total if total > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "camera": self.camera,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "segments": self.segments,
            "recorded_seconds": round(self.recorded_seconds, 3),
            "fraction": round(self.fraction, 6),
            "recorded": [s.to_json() for s in self.recorded],
            "gaps": [s.to_json() for s in self.gaps],
            "important": [s.to_json() for s in self.important],
            "held": [s.to_json() for s in self.held],
        }


def _clip(start: datetime, end: datetime, lo: datetime, hi: datetime) -> Span | None:
    s, e = max(start, lo), min(end, hi)
    return Span(s, e) if e > s else None


def merge(spans: list[tuple[datetime, datetime]], join_s: float = JOIN_S) -> list[Span]:
    """Sorted, merged spans; neighbours closer than ``join_s`` seconds become one."""
    out: list[Span] = []
    join = timedelta(seconds=join_s)
    for start, end in sorted(spans):
        if out and start - out[-1].end <= join:
            if end > out[-1].end:
                out[-1] = Span(out[-1].start, end)
        else:
            out.append(Span(start, end))
    return out


# ---- the per-process index of live segment times -----------------------------------

_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
DELETION_KINDS = ("segment_deleted",)


def _us(value: Any) -> int:
    """Microseconds since the epoch of a raw stored instant: SQLite gives naive UTC
    text, PostgreSQL aware datetimes (see db/types.py)."""
    if isinstance(value, str):
        return (datetime.fromisoformat(value) - _EPOCH_NAIVE) // _US
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return (value - _EPOCH_NAIVE) // _US
        return (value - _EPOCH) // _US
    raise TypeError(f"not a stored instant: {value!r}")


def _at(us: int) -> datetime:
    return _EPOCH + us * _US


def _merge_us(spans: list[tuple[int, int]], join_us: int) -> list[tuple[int, int]]:
    """``merge`` on integer microseconds."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start - out[-1][1] <= join_us:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


@dataclass
class _Index:
    version: tuple[int, bytes]  # the ledger's last leaf (index, hash) when read
    max_id: int  # the highest segment id read
    starts: array[int]  # every live segment's start, sorted
    ends: array[int]  # every live segment's end, sorted on its own
    spans: list[tuple[int, int]]  # the merged recorded spans, sorted

    def add(self, rows: list[tuple[int, Any, Any]]) -> None:
        new = [(_us(a), _us(b)) for _, a, b in rows]
        if len(new) > 64:  # a first read or a backlog: sort once
            self.starts = array("q", sorted([*self.starts, *(a for a, _ in new)]))
            self.ends = array("q", sorted([*self.ends, *(b for _, b in new)]))
        else:
            for start, end in new:
                insort(self.starts, start)
                insort(self.ends, end)
        self.spans = _merge_us(self.spans + new, JOIN_US)
        self.max_id = max([self.max_id, *(i for i, _, _ in rows)])


JOIN_US = int(JOIN_S * 1_000_000)
_indexes: dict[tuple[str, str], _Index] = {}
_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_lock = threading.Lock()


def _version(session: Session) -> tuple[int, bytes]:
    row = session.execute(
        text("SELECT idx, leaf_hash FROM ledger_leaves ORDER BY idx DESC LIMIT 1")
    ).first()
    return (-1, b"") if row is None else (int(row[0]), bytes(row[1]))


def _still_valid(session: Session, cached: _Index) -> bool:
    """The cached ledger position is still there (same database) and no deletion
    was recorded after it."""
    index, digest = cached.version
    if index >= 0:
        row = session.execute(
            text("SELECT leaf_hash FROM ledger_leaves WHERE idx = :i"), {"i": index}
        ).first()
        if row is None or bytes(row[0]) != digest:
            return False
    deleted = session.execute(
        text("SELECT 1 FROM ledger_leaves WHERE idx > :i AND kind = :k LIMIT 1"),
        {"i": index, "k": DELETION_KINDS[0]},
    ).first()
    return deleted is None


def _rows(session: Session, camera: str, after_id: int) -> list[tuple[int, Any, Any]]:
    result = session.execute(
        text(
            "SELECT id, start_at, end_at FROM segments "
            "WHERE camera_id = :c AND deleted_at IS NULL AND id > :after"
        ),
        {"c": camera, "after": after_id},
    )
    return [(int(i), a, b) for i, a, b in result]


def _segment_index(session: Session, camera: str) -> _Index:
    key = (str(session.get_bind().engine.url), camera)
    with _locks_lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        version = _version(session)  # before the rows: a later leaf is read next time
        cached = _indexes.get(key)
        if cached is not None and cached.version == version:
            return cached
        if cached is None or not _still_valid(session, cached):
            cached = _Index(version, 0, array("q"), array("q"), [])
        cached.add(_rows(session, camera, cached.max_id))
        cached.version = version
        _indexes[key] = cached
        return cached


def _recorded(
    index: _Index, start: datetime, end: datetime
) -> tuple[list[tuple[datetime, datetime]], int]:
    lo, hi = (start - _EPOCH) // _US, (end - _EPOCH) // _US
    # Segments with start < hi, less those ending at or before lo (which all start < hi).
    count = bisect_left(index.starts, hi) - bisect_right(index.ends, lo)
    first = bisect_right([e for _, e in index.spans], lo) if len(index.spans) > 64 else 0
    out = []
    for a, b in index.spans[first:]:
        if a >= hi:
            break
        if b > lo:
            out.append((_at(max(a, lo)), _at(min(b, hi))))
    return out, count


def _missing(
    s: Session, camera: str, redundant: bool, gaps: Any
) -> list[tuple[datetime, datetime]]:
    """The gaps' spans less what the camera's other recording holds there: a hole in
    one copy of a redundant camera that the other copy recorded is not missing footage."""
    if not redundant and all(copy == 0 for _, _, copy in gaps):
        return [(utc(a), utc(b)) for a, b, _ in gaps]  # one recording: the gaps as they are
    out: list[tuple[datetime, datetime]] = []
    for start, end, copy in gaps:
        pieces = [(utc(start), utc(end))]
        # Segments within a join of the hole too: one that ends just before it meets the
        # next across jitter that would otherwise be left at the hole's edge.
        reach = timedelta(seconds=OTHER_COPY_JOIN_S)
        others = s.execute(
            select(m.Segment.start_at, m.Segment.end_at).where(
                m.Segment.camera_id == camera,
                m.Segment.copy != copy,
                m.Segment.deleted_at.is_(None),
                *windows.overlapping(s, utc(start) - reach, utc(end) + reach, [camera]),
            )
        ).all()
        # Joined across the jitter between the other copy's segments (milliseconds).
        for span in merge([(utc(a), utc(b)) for a, b in others], OTHER_COPY_JOIN_S):
            a, b = span.start, span.end
            pieces = [
                piece
                for lo, hi in pieces
                for piece in ((lo, min(hi, a)), (max(lo, b), hi))
                if piece[1] > piece[0]
            ]
        out += pieces
    return out


def coverage(system: System, camera: str, start: datetime, end: datetime) -> Coverage:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("the time range needs a time zone")
    if end <= start:
        raise InvalidInput("the end of the range must be after its start")
    if end - start > MAX_RANGE:
        raise InvalidInput(f"the range may span at most {MAX_RANGE.days} days")
    with system.reads() as s:
        row = s.get(m.Camera, camera)
        if row is None:
            raise NotFound(f"camera {camera} does not exist")
        recorded, count = _recorded(_segment_index(s, camera), start, end)
        gaps = _missing(
            s,
            camera,
            bool(row.redundant),
            s.execute(
                select(m.Gap.start_at, m.Gap.end_at, m.Gap.copy).where(
                    m.Gap.camera_id == camera, m.Gap.end_at > start, m.Gap.start_at < end
                )
            ).all(),
        )
        marks = s.execute(
            select(m.RetentionMark.start_at, m.RetentionMark.end_at).where(
                m.RetentionMark.camera_id == camera,
                m.RetentionMark.end_at > start,
                m.RetentionMark.start_at < end,
            )
        ).all()
        holds = s.execute(
            select(m.RetentionHold.start_at, m.RetentionHold.end_at).where(
                m.RetentionHold.camera_id == camera,
                m.RetentionHold.released_at.is_(None),
                m.RetentionHold.end_at > start,
                m.RetentionHold.start_at < end,
            )
        ).all()

    def spans(pairs: list[tuple[datetime, datetime]], join_s: float) -> list[Span]:
        clipped = [_clip(utc(a), utc(b), start, end) for a, b in pairs]
        return merge([(c.start, c.end) for c in clipped if c is not None], join_s)

    return Coverage(
        camera,
        start,
        end,
        [Span(a, b) for a, b in recorded],
        spans(gaps, 0),
        spans([tuple(r) for r in marks], 0),  # type: ignore[misc]
        spans([tuple(r) for r in holds], 0),  # type: ignore[misc]
        count,
    )
