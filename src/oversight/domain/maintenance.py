"""Maintenance (xj-2014 Art. 14(1)): inspection schedules, inspections, emergency
procedures and repairs; when an inspection is due. Pure: no I/O, no clock.

A schedule belongs to a whole site or to one camera. A site-wide inspection counts
for every schedule of the site; a camera inspection counts only for that camera's.
A site with active cameras and no schedule is due at the packs' default interval from
its first camera's commissioning (the measures set no interval: an interpretation
carried in the pack).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from oversight.errors import InvalidInput, RuleViolation
from oversight.rules.layering import PackSet
from oversight.rules.schema import InspectionIntervalRule

RESULTS: tuple[str, ...] = ("ok", "defects", "failed")


@dataclass(frozen=True)
class Schedule:
    scope: str  # "site:ID" or "camera:ID"
    site: str
    camera: str | None
    interval_days: int
    starts_on: date
    set_by: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "starts_on": self.starts_on.isoformat()}


@dataclass(frozen=True)
class InspectionDone:
    id: int
    site: str
    camera: str | None
    on: date
    inspector: str
    result: str
    notes: str

    def counts_for(self, schedule: Schedule) -> bool:
        same_camera = self.camera is None or self.camera == schedule.camera
        return self.site == schedule.site and same_camera

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "on": self.on.isoformat()}


@dataclass(frozen=True)
class Procedure:
    id: int
    site: str
    title: str
    adopted_on: date
    has_text: bool
    document_sha256: str | None
    filename: str | None
    recorded_by: str

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "adopted_on": self.adopted_on.isoformat()}


@dataclass(frozen=True)
class RepairDone:
    id: int
    camera: str
    on: date
    description: str
    alarm_id: int | None
    recorded_by: str

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "on": self.on.isoformat()}


@dataclass(frozen=True)
class Due:
    """When ``schedule`` next needs an inspection, and the inspection it counts from."""

    schedule: Schedule
    due: date
    last: InspectionDone | None
    default: bool  # no schedule on file: the pack's default interval

    def overdue_on(self, day: date) -> bool:
        return self.due < day

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.schedule.scope,
            "interval_days": self.schedule.interval_days,
            "due": self.due.isoformat(),
            "last_inspected": self.last.on.isoformat() if self.last else None,
            "default": self.default,
        }


MAX_INTERVAL_DAYS = 36_500  # a hundred years


def check_result(result: str) -> str:
    if result not in RESULTS:
        raise InvalidInput(f"unknown inspection result {result!r} (use {'|'.join(RESULTS)})")
    return result


def interval_rules(
    packs: PackSet, on: date, category: str | None = None
) -> list[tuple[Any, InspectionIntervalRule]]:
    return packs.rules(InspectionIntervalRule, on, category=category)


def check_interval(packs: PackSet, days: int, on: date, category: str | None = None) -> None:
    """An interval is a positive number of days, no longer than any pack allows (nor
    than ``MAX_INTERVAL_DAYS``, so that every due date computed from it is a date)."""
    if not 1 <= days <= MAX_INTERVAL_DAYS:
        raise InvalidInput(
            f"the inspection interval must be between 1 and {MAX_INTERVAL_DAYS} days"
        )
    for pack, rule in interval_rules(packs, on, category):
        if days > rule.params.max_interval_days:
            raise RuleViolation(
                f"an inspection every {days} days is longer than {pack.pack.id} allows "
                f"({rule.params.max_interval_days} days)",
                rule=rule.id,
                article=rule.cite,
            )


def default_interval(packs: PackSet, on: date, category: str | None = None) -> int | None:
    """The strictest default interval among the packs in force (None: no rule applies)."""
    days = [r.params.default_interval_days for _, r in interval_rules(packs, on, category)]
    return min(days, default=None)


def next_due(
    schedule: Schedule, inspections: Sequence[InspectionDone], *, default: bool = False
) -> Due:
    """Due ``interval_days`` after the latest inspection that counts for the schedule,
    or after the schedule's start if that is later (a new schedule runs from when it
    was set). Every inspection done counts, whatever it found."""
    last = max(
        (i for i in inspections if i.counts_for(schedule)),
        key=lambda i: (i.on, i.id),
        default=None,
    )
    base = max(last.on, schedule.starts_on) if last is not None else schedule.starts_on
    return Due(schedule, base + timedelta(days=schedule.interval_days), last, default)
