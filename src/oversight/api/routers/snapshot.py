"""``POST /api/v1/grants/{id}/snapshot``: the still of one camera at one instant.

Two people, as for the export (``api/routers/footage.py``): the caller (a custodian,
by bearer token) and a witness who gives their own user id and password in the body
(a POST, so no password rides in a URL or an access log). The still is released
through the enforcement point (``services/snapshot.py``): its ``view.snapshot`` leaf is
committed before ffmpeg decodes the frame; a refusal is a ``view.snapshot.refused`` leaf.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from oversight.api.schemas import ERRORS, THROTTLED
from oversight.api.security import Caller, check_password, need_governed
from oversight.domain.people import MAX_PASSWORD_CHARS
from oversight.services import snapshot as shots
from oversight.services.limits import MAX_ID

router = APIRouter(tags=["footage"], responses=ERRORS)
Viewer = Annotated[Caller, Depends(need_governed("footage.view", "view", "grant:{grant_id}"))]
GrantId = Annotated[int, Path(ge=1, le=MAX_ID)]


class SnapshotBody(BaseModel):
    camera: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    at: AwareDatetime = Field(description="The instant (ISO 8601 with offset), inside the grant")
    format: Literal["jpeg", "png"] = "jpeg"
    witness: str = Field(min_length=1, max_length=64, description="The witness's user id")
    witness_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"


@router.post(
    "/grants/{grant_id}/snapshot",
    summary="A still of one camera at one instant of a grant, with a witness",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The still"},
        **THROTTLED,  # the witness's password goes through the login limiter
    },
)
async def snapshot(
    grant_id: GrantId, body: SnapshotBody, caller: Viewer, request: Request
) -> Response:
    second = await check_password(request, body.witness.strip(), body.witness_password)
    shot = await run_in_threadpool(
        lambda: shots.take(
            caller.system,
            [caller.person, second],
            grant_id=grant_id,
            camera=body.camera,
            at=body.at,
            fmt=body.format,
        )
    )
    suffix = "jpg" if body.format == "jpeg" else "png"
    name = f"grant{grant_id}-{body.camera}-{_stamp(shot.at)}.{suffix}"
    return Response(
        shot.data,
        media_type=shot.media_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Ledger-Leaf": str(shot.leaf_index),
        },
    )
