"""``/api/v1`` recordings: the segment index (metadata, never bytes), gaps, camera
status and the coverage timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from oversight.api.inline import inline
from oversight.api.schemas import (
    ERRORS,
    CoverageOut,
    GapOut,
    Instant,
    StatusOut,
    aware,
    required_aware,
)
from oversight.api.security import Caller, need
from oversight.services import coverage as cov
from oversight.services import diagnostics
from oversight.services import recording as svc
from oversight.services.diagnostics import GapReport, StatusReport
from oversight.services.recording import SegmentRec

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


@router.get(
    "/gaps",
    response_model=list[GapOut],
    summary="Recorded gaps in coverage, each with its plain reason",
    description="`reason_raw` (ffmpeg's own words) only for holders of recordings.diagnostics.",
)
@inline
def gaps(caller: Reader, camera: CameraQuery = None) -> list[GapReport]:
    return diagnostics.gaps(caller.system, caller.person, camera)


@router.get(
    "/status",
    response_model=list[StatusOut],
    summary="Each camera's recorder status, its last error as a plain reason",
    description="`last_error_raw` (ffmpeg's own words) only for holders of recordings.diagnostics.",
)
@inline
def status(caller: Reader) -> list[StatusReport]:
    return diagnostics.statuses(caller.system, caller.person)


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
