"""``/api/v1`` retention: keep-for settings, important marks, legal holds, the plan,
and the refusal to delete footage within retention (Art. 15(2))."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from oversight.api.inline import inline
from oversight.api.schemas import ERRORS, ID_PATTERN, Done, Instant, aware, required_aware
from oversight.api.security import Caller, need, need_governed
from oversight.domain.retention import MAX_KEEP_DAYS, Decision
from oversight.services import purge
from oversight.services import retention as svc
from oversight.services.limits import MAX_ID

router = APIRouter(tags=["retention"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need("retention.read"))]
# Keep-for is recorder configuration; marks, holds and deletions decide about footage.
Configurer = Annotated[Caller, Depends(need("retention.configure"))]
Marker = Annotated[Caller, Depends(need_governed("retention.mark", "retention.mark", "camera:?"))]
Holder = Annotated[Caller, Depends(need_governed("retention.mark", "retention.hold", "camera:?"))]
Releaser = Annotated[
    Caller, Depends(need_governed("retention.release", "retention.release", "hold:{hold_id}"))
]
Deleter = Annotated[
    Caller, Depends(need_governed("segments.delete", "delete", "segment:{segment_id}"))
]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class KeepFor(BaseModel):
    days: Annotated[int, Field(ge=1, le=MAX_KEEP_DAYS)]
    camera: Annotated[str, Field(pattern=ID_PATTERN)] | None = Field(
        default=None, description="Only this camera (default: the whole deployment)"
    )


class Range(BaseModel):
    camera: Annotated[str, Field(pattern=ID_PATTERN)]
    start: Instant = Field(description="ISO 8601 with time zone")
    end: Instant = Field(description="ISO 8601 with time zone")
    reason: Reason


class Release(BaseModel):
    reason: Reason


class PolicyOut(BaseModel):
    scope: str
    days: int
    set_by: str
    set_at: datetime


class MarkOut(BaseModel):
    id: int
    camera: str
    start: datetime
    end: datetime
    reason: str
    by: str


class HoldOut(MarkOut):
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


class StateOut(BaseModel):
    keep_for: list[PolicyOut]
    marks: list[MarkOut]
    holds: list[HoldOut]


class DecisionOut(BaseModel):
    segment: int
    camera: str
    start: datetime
    end: datetime
    bytes: int
    retention_class: str
    keep_until: datetime
    expired: bool
    held_by: list[int]
    marked_by: list[int]
    overdue: bool
    basis: str


class PlanOut(BaseModel):
    at: datetime
    segments: int
    expired: int
    expired_bytes: int
    held: int
    decisions: list[DecisionOut]


def _mark(r: svc.MarkRec) -> MarkOut:
    return MarkOut(
        id=r.id, camera=r.camera_id, start=r.start_at, end=r.end_at, reason=r.reason, by=r.marked_by
    )


def _hold(r: svc.HoldRec) -> HoldOut:
    return HoldOut(
        id=r.id,
        camera=r.camera_id,
        start=r.start_at,
        end=r.end_at,
        reason=r.reason,
        by=r.placed_by,
        released_by=r.released_by,
        released_at=r.released_at,
        release_reason=r.release_reason,
    )


def _decision(d: Decision) -> DecisionOut:
    return DecisionOut(
        segment=d.segment.id,
        camera=d.segment.camera,
        start=d.segment.start,
        end=d.segment.end,
        bytes=d.segment.size,
        retention_class=d.retention_class,
        keep_until=d.keep_until,
        expired=d.expired,
        held_by=list(d.held_by),
        marked_by=list(d.marked_by),
        overdue=d.overdue,
        basis=d.basis,
    )


@router.get("/retention", response_model=StateOut, summary="Keep-for settings, marks and holds")
@inline
def state(caller: Reader) -> StateOut:
    found = svc.state(caller.system, caller.person)
    return StateOut(
        keep_for=[
            PolicyOut(scope=p.scope, days=p.keep_days, set_by=p.set_by, set_at=p.set_at)
            for p in found.policies
        ],
        marks=[_mark(r) for r in found.marks],
        holds=[_hold(r) for r in found.holds],
    )


@router.put(
    "/retention/keep",
    response_model=Done,
    summary="Set how long footage is kept (never below the rule pack's minimum)",
)
def keep(body: KeepFor, caller: Configurer) -> Done:
    svc.set_keep_for(caller.system, caller.person, body.days, body.camera)
    who = f"camera {body.camera}" if body.camera else "all cameras"
    return Done(message=f"footage of {who} is kept {body.days} days")


@router.post(
    "/retention/marks",
    response_model=MarkOut,
    status_code=201,
    summary="Mark footage important to public security (kept for the longer class)",
)
def mark(body: Range, caller: Marker) -> MarkOut:
    start, end = required_aware(body.start, "start"), required_aware(body.end, "end")
    return _mark(
        svc.mark_important(caller.system, caller.person, body.camera, start, end, body.reason)
    )


@router.post(
    "/retention/holds",
    response_model=HoldOut,
    status_code=201,
    summary="Place a legal hold: nothing it covers is deleted until a second person releases it",
)
def hold(body: Range, caller: Holder) -> HoldOut:
    start, end = required_aware(body.start, "start"), required_aware(body.end, "end")
    return _hold(svc.place_hold(caller.system, caller.person, body.camera, start, end, body.reason))


@router.post(
    "/retention/holds/{hold_id}/release",
    response_model=HoldOut,
    summary="Release a legal hold (by someone other than who placed it)",
)
def release(
    hold_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Release, caller: Releaser
) -> HoldOut:
    return _hold(svc.release_hold(caller.system, caller.person, hold_id, body.reason))


@router.get(
    "/retention/plan",
    response_model=PlanOut,
    summary="What a purge would delete now (or at `at`) and why; deletes nothing",
)
def plan(
    caller: Reader,
    at: Annotated[Instant | None, Query(description="ISO 8601 with time zone")] = None,
    show_all: Annotated[bool, Query(alias="all", description="List kept segments too")] = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> PlanOut:
    result = svc.make_plan(caller.system, aware(at, "at"))
    shown = result.decisions if show_all else tuple(result.expired)
    return PlanOut(
        at=result.at,
        segments=len(result.decisions),
        expired=len(result.expired),
        expired_bytes=result.expired_bytes,
        held=len(result.held),
        decisions=[_decision(d) for d in shown[:limit]],
    )


@router.delete(
    "/segments/{segment_id}",
    response_model=Done,
    summary="Delete one segment by hand: refused within retention (Art. 15(2)), and logged",
)
def delete_segment(
    segment_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    caller: Deleter,
    reason: Annotated[str, Query(min_length=1, max_length=2000)],
) -> Done:
    purge.delete_segment(caller.system, caller.person, segment_id, reason)
    return Done(message=f"segment {segment_id} deleted")
