"""``/api/v1`` recordings: the segment index (metadata, never bytes), gaps, camera
status and the coverage timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from oversight.api.inline import inline
from oversight.api.schemas import ERRORS, CoverageOut, Instant, aware, required_aware
from oversight.api.security import Caller, need
from oversight.services import coverage as cov
from oversight.services import recording as svc
from oversight.services.recording import GapRec, SegmentRec, StatusRec

router = APIRouter(tags=["recordings"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need("recordings.read"))]
CameraQuery = Annotated[str | None, Query(max_length=64, description="Only this camera")]
From = Annotated[Instant | None, Query(alias="from", description="ISO 8601 with time zone")]
To = Annotated[Instant | None, Query(alias="to", description="ISO 8601 with time zone")]


@router.get(
    "/segments",
    response_model=list[SegmentRec],
    summary="Sealed segments overlapping a range, oldest first (metadata only)",
)
@inline
def segments(
    caller: Reader,
    camera: CameraQuery = None,
    start: From = None,
    end: To = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[SegmentRec]:
    return svc.list_segments(
        caller.system,
        caller.person,
        camera=camera,
        start=aware(start, "from"),
        end=aware(end, "to"),
        limit=limit,
    )


@router.get("/gaps", response_model=list[GapRec], summary="Recorded gaps in coverage")
@inline
def gaps(caller: Reader, camera: CameraQuery = None) -> list[GapRec]:
    return svc.list_gaps(caller.system, caller.person, camera)


@router.get("/status", response_model=list[StatusRec], summary="Each camera's recorder status")
@inline
def status(caller: Reader) -> list[StatusRec]:
    return svc.list_status(caller.system, caller.person)


@router.get(
    "/cameras/{camera_id}/coverage",
    response_model=CoverageOut,
    summary="Recorded spans, gaps, important marks and holds of one camera over a range",
)
@inline
def coverage(
    camera_id: str,
    caller: Reader,
    start: Annotated[Instant, Query(alias="from", description="ISO 8601 with time zone")],
    end: Annotated[Instant, Query(alias="to", description="ISO 8601 with time zone")],
) -> dict[str, object]:
    result = cov.coverage(
        caller.system, camera_id, required_aware(start, "from"), required_aware(end, "to")
    )
    return result.to_json()
