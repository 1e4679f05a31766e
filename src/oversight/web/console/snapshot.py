"""``GET /play/{grant}/snapshot?camera=CAM&at=ISO[&format=jpeg|png]``: the still of one
camera at one instant, for the custodian executing the grant with a witness in this
session (``web/witness.py``), through the enforcement point (``services/snapshot.py``:
its ``view.snapshot`` leaf is committed before any byte is decoded).

Without an open execution nothing is read and the attempt is a
``view.snapshot.refused`` leaf (a refusal about footage is a leaf); the grant's own
refusals (camera, instant outside the grant, expired, revoked) are the enforcement
point's, logged there the same way.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from oversight.domain.people import PermissionDenied
from oversight.errors import InvalidInput
from oversight.media import still
from oversight.services import people
from oversight.services import snapshot as shots
from oversight.web.console.playback import Id, Viewer, _grant_for
from oversight.web.console.player import Instant, instant

router = APIRouter(include_in_schema=False)
CameraParam = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Format = Annotated[Literal["jpeg", "png"], Query()]


def _take(
    request: Request, caller: Viewer, grant_id: int, camera: str, at: str, fmt: str
) -> shots.Still:
    system = caller.system
    moment = instant(system, at, "at")
    if moment is None:
        raise InvalidInput("at: the instant of the snapshot is missing (ISO 8601)")
    still.media_type(fmt)
    try:
        _, run = _grant_for(request, caller, grant_id, check=False)
    except PermissionDenied as exc:
        shots.refuse(system, caller.person, exc, grant_id=grant_id, camera=camera, at=moment)
        raise
    second = people.person_by_id(system, run.witness)
    return shots.take(
        system, [caller.person, second], grant_id=grant_id, camera=camera, at=moment, fmt=fmt
    )


@router.get("/play/{grant_id}/snapshot")
async def snapshot(
    request: Request,
    caller: Viewer,
    grant_id: Id,
    camera: CameraParam,
    at: Instant,
    format: Format = "jpeg",
) -> Response:
    shot = await run_in_threadpool(_take, request, caller, grant_id, camera, at, format)
    stamp = shot.at.strftime("%Y%m%dT%H%M%S.%f")[:-3]
    suffix = "jpg" if format == "jpeg" else "png"
    return Response(
        shot.data,
        media_type=shot.media_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="grant{grant_id}-{camera}-{stamp}Z.{suffix}"',
            "X-Ledger-Leaf": str(shot.leaf_index),
        },
    )
