"""Retention planning (pure): when may each segment go, and what may a purge delete now.

Inputs are plain values; ``now`` is a parameter. For each live segment:

1. its class is ``important`` if any mark covers it (camera and time overlap), else
   ``standard``;
2. the floor is the strictest minimum the rule packs in force on the segment's
   recording date set for that class (``PackSet.retention_minimum``);
3. it is kept for ``max(floor, keep_for)`` days after its end, where ``keep_for`` is the
   camera's setting, else the deployment's, else the floor itself;
4. an unreleased hold covering it blocks deletion whatever the date;
5. it is expired when ``now`` is at or past its keep-until and no hold blocks it.

A pack ceiling (a maximum number of days, or cn-2025's "delete once the purpose is
met") makes a segment kept past its keep-until without a mark or hold *overdue*,
which the compliance engine reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from oversight.errors import InvalidInput, RuleViolation
from oversight.rules.layering import Bound, PackSet
from oversight.rules.schema import RetentionCeilingRule, RetentionMinimumRule

STANDARD = "standard"
IMPORTANT = "important"


_DAY = 86400.0


# A hundred years: longer than any rule asks, and short enough that every keep-until
# date computed from it is a date (Python's end at year 9999); a mistyped 99999999999999
# days was accepted before.
MAX_KEEP_DAYS = 36_500


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class SegmentInfo(NamedTuple):
    """A live segment. Times are POSIX seconds: planning a million segments must not
    build a million datetimes; ``of`` and the properties convert. A NamedTuple, not a
    frozen dataclass: built a million times per plan, at a third of the cost."""

    id: int
    camera: str
    start_ts: float
    end_ts: float
    size: int

    @classmethod
    def of(cls, id: int, camera: str, start: datetime, end: datetime, size: int) -> SegmentInfo:
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("segment times must be timezone-aware")
        return cls(id, camera, start.timestamp(), end.timestamp(), size)

    @property
    def start(self) -> datetime:
        return _utc(self.start_ts)

    @property
    def end(self) -> datetime:
        return _utc(self.end_ts)


@dataclass(frozen=True)
class Mark:
    """Footage of ``camera`` overlapping [start, end) is important (2-year class)."""

    id: int
    camera: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Hold:
    """A legal hold: no footage of ``camera`` overlapping [start, end) may go until released."""

    id: int
    camera: str
    start: datetime
    end: datetime
    released: bool = False


@dataclass(frozen=True)
class KeepFor:
    """Configured retention in days: the deployment's and each camera's (None: the floor)."""

    deployment: int | None = None
    cameras: Mapping[str, int] = field(default_factory=dict)

    def days(self, camera: str) -> int | None:
        return self.cameras.get(camera, self.deployment)


class Decision(NamedTuple):
    segment: SegmentInfo
    retention_class: str
    floor: Bound
    keep_days: int
    held_by: tuple[int, ...]
    marked_by: tuple[int, ...]
    expired: bool  # may be deleted now
    overdue: bool  # kept past keep-until and unheld, under a pack ceiling

    @property
    def keep_until(self) -> datetime:
        return _utc(self.segment.end_ts + self.keep_days * _DAY)

    @property
    def basis(self) -> str:
        """Why it may go (or must stay): the class, its floor and its article."""
        return (
            f"{self.retention_class}: kept {self.keep_days} days "
            f"(minimum {self.floor.days}, {self.floor.pack_id} {self.floor.article})"
        )


@dataclass(frozen=True)
class Plan:
    at: datetime
    decisions: tuple[Decision, ...]

    @property
    def expired(self) -> list[Decision]:
        return [d for d in self.decisions if d.expired]

    @property
    def held(self) -> list[Decision]:
        return [d for d in self.decisions if d.held_by]

    @property
    def overdue(self) -> list[Decision]:
        return [d for d in self.decisions if d.overdue]

    @property
    def expired_bytes(self) -> int:
        return sum(d.segment.size for d in self.expired)


def _overlaps(start: float, end: float, seg: SegmentInfo) -> bool:
    return start < seg.end_ts and seg.start_ts < end


def floor_for(packs: PackSet, retention_class: str, recorded: datetime) -> Bound:
    """The strictest minimum for footage of that class recorded at that instant."""
    bound = packs.retention_minimum(retention_class, packs.local_date(recorded))
    if bound is None:
        bound = packs.retention_minimum(STANDARD, packs.local_date(recorded))
    if bound is None:
        raise InvalidInput(
            f"no rule pack in force on {packs.local_date(recorded)} sets a retention minimum"
        )
    return bound


def check_keep_for(packs: PackSet, days: int, on: datetime) -> None:
    """Refuse a keep-for setting below the standard floor, citing the article, or past
    ``MAX_KEEP_DAYS``."""
    if not 1 <= days <= MAX_KEEP_DAYS:
        raise InvalidInput(f"keep-for must be between 1 and {MAX_KEEP_DAYS} days, got {days}")
    floor = floor_for(packs, STANDARD, on)
    if days < floor.days:
        rule = next(
            (
                r.id
                for p, r in packs.rules(RetentionMinimumRule, packs.local_date(on))
                if p.pack.id == floor.pack_id and r.params.retention_class == STANDARD
            ),
            f"retention_{STANDARD}",
        )
        raise RuleViolation(
            f"footage must be kept at least {floor.days} days, {days} is shorter "
            f"(rule {rule} of {floor.pack_id})",
            rule=rule,
            article=floor.article,
        )


def _has_ceiling(packs: PackSet, on: datetime) -> bool:
    day = packs.local_date(on)
    if packs.retention_maximum(STANDARD, day) is not None:
        return True
    return bool(packs.rules(RetentionCeilingRule, day))


def plan(
    segments: Iterable[SegmentInfo],
    marks: Sequence[Mark],
    holds: Sequence[Hold],
    keep_for: KeepFor,
    packs: PackSet,
    now: datetime,
) -> Plan:
    if now.tzinfo is None:
        raise InvalidInput("the planning instant must be timezone-aware")
    now_ts = now.timestamp()
    marks_of: dict[str, list[tuple[int, float, float]]] = {}
    for mark in marks:
        marks_of.setdefault(mark.camera, []).append(
            (mark.id, mark.start.timestamp(), mark.end.timestamp())
        )
    holds_of: dict[str, list[tuple[int, float, float]]] = {}
    for hold in holds:
        if not hold.released:
            holds_of.setdefault(hold.camera, []).append(
                (hold.id, hold.start.timestamp(), hold.end.timestamp())
            )
    ceiling = _has_ceiling(packs, now)
    floors: dict[tuple[str, int], Bound] = {}
    kept: dict[str, int] = {}
    decisions = []
    for seg in segments:
        camera_marks = marks_of.get(seg.camera)
        marked = (
            tuple(i for i, a, b in camera_marks if _overlaps(a, b, seg)) if camera_marks else ()
        )
        camera_holds = holds_of.get(seg.camera)
        held = tuple(i for i, a, b in camera_holds if _overlaps(a, b, seg)) if camera_holds else ()
        retention_class = IMPORTANT if marked else STANDARD
        # Which packs are in force depends on the local date, and UTC offsets change only
        # at 15-minute-aligned instants: one floor per class and quarter hour suffices.
        key = (retention_class, int(seg.end_ts) // 900)
        floor = floors.get(key)
        if floor is None:
            floor = floors[key] = floor_for(packs, retention_class, seg.end)
        configured = kept.get(seg.camera)
        if configured is None:
            configured = kept[seg.camera] = keep_for.days(seg.camera) or 0
        keep_days = floor.days if floor.days > configured else configured
        past = now_ts >= seg.end_ts + keep_days * _DAY
        expired = past and not held
        decisions.append(
            Decision(
                seg, retention_class, floor, keep_days, held, marked, expired, expired and ceiling
            )
        )
    return Plan(now, tuple(decisions))
