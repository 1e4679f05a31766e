"""``/api/v1`` health: per-camera live state and the alarms, with acknowledgement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from oversight.api.schemas import ERRORS
from oversight.api.security import Caller, need
from oversight.services import alarms, health
from oversight.services.limits import MAX_ID

router = APIRouter(tags=["health"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need("recordings.read"))]


class CameraHealthOut(BaseModel):
    camera: str
    live: str = Field(description="online | offline | unknown (no monitor running)")
    live_since: str | None
    fps: float | None
    kbps: float | None
    recorder: str
    recorder_since: str | None
    last_segment_at: str | None
    gaps_today: int
    open_alarms: list[str]
    tamper: list[str]


class AckOut(BaseModel):
    by: str
    at: str | None
    note: str


class AlarmOut(BaseModel):
    id: int
    camera: str
    kind: str
    detail: str
    state: str
    started_at: str | None
    last_seen_at: str | None
    seen: int
    ended_at: str | None
    acknowledged: AckOut | None
    leaf_index: int


class AckIn(BaseModel):
    note: str = Field(default="", max_length=2000)


@router.get("/health", response_model=list[CameraHealthOut], summary="Live health per camera")
def camera_health(caller: Reader) -> list[dict[str, Any]]:
    return [row.to_json() for row in health.report(caller.system, caller.person)]


@router.get("/alarms", response_model=list[AlarmOut], summary="Alarms, newest first")
def list_alarms(
    caller: Reader,
    open_only: Annotated[bool, Query(alias="open", description="Only open alarms")] = False,
    camera: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    found = alarms.list_alarms(caller.system, caller.person, open_only=open_only, camera=camera)
    return [a.to_json() for a in found]


@router.post(
    "/alarms/{alarm_id}/ack",
    response_model=AlarmOut,
    summary="Acknowledge an alarm (operators, custodians, admins)",
)
def acknowledge(
    alarm_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: AckIn,
    caller: Annotated[Caller, Depends(need("alarms.ack"))],
) -> dict[str, Any]:
    return alarms.acknowledge(caller.system, caller.person, alarm_id, body.note).to_json()
