"""The timeline across cameras (``/timeline``) and its hover thumbnails (issue 22, item 2).

The page asks the policy through the services (``recordings.read`` in scope). A
thumbnail is footage: ``footage.view`` in the policy, an open two-person execution of
the grant in this session, then the enforcement point (``services/timeline.thumbnail``),
whose ``view.thumbnail`` leaf is committed before the frame is made. Every refusal is a
``view.thumbnail.refused`` leaf and a 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from oversight.api.schemas import ID_PATTERN
from oversight.api.security import Caller, need, need_governed
from oversight.errors import InvalidInput, PermissionDenied
from oversight.services import people, recording
from oversight.services import timeline as svc
from oversight.services.limits import MAX_ID
from oversight.web import timeline_view as view
from oversight.web import witness
from oversight.web.render import page
from oversight.web.timeline_window import parse_instant

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need("recordings.read"))]
Viewer = Annotated[
    Caller, Depends(need_governed("footage.view", svc.THUMBNAIL_ACTION, "grant:{grant_id}"))
]
Text = Annotated[str, Query(max_length=64)]
Camera = Annotated[str, Query(max_length=64, pattern=ID_PATTERN)]


@router.get("/timeline")
def timeline_page(
    request: Request,
    caller: Reader,
    span: Text = "",
    end: Text = "",
    camera: Text = "",
    sel_camera: Text = "",
    sel_start: Text = "",
    sel_end: Text = "",
) -> Response:
    system = caller.system
    win = view.window_of(caller, span, end)
    cameras = [s.camera for s in recording.list_status(system, caller.person)]
    if camera:
        if camera not in cameras:
            raise InvalidInput(f"camera {camera!r} is not one you may see")
        cameras = [camera]
    rows, grants = view.rows(request, caller, cameras, win, "/timeline")
    picked = view.pick(request, caller, cameras, grants, sel_camera, sel_start, sel_end)
    moves, presets = view.controls(win, "/timeline", camera=camera)
    return page(
        request,
        caller,
        "console/timeline.html",
        rows=rows,
        win=win,
        moves=moves,
        presets=presets,
        pick=picked,
        chosen=camera,
    )


@router.get("/timeline/thumbnail/{grant_id}")
def thumbnail(
    request: Request,
    caller: Viewer,
    grant_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
    camera: Camera,
    at: Annotated[str, Query(max_length=40)],
) -> Response:
    """One frame of ``camera`` at ``at`` under ``grant_id``, as a small JPEG."""
    system = caller.system
    moment = parse_instant(at, "at")  # bad input: a 400, nothing read or written
    run = witness.executions(request).get(
        caller.token, grant_id, caller.person.id, system.clock.now()
    )
    if run is None:
        svc.refuse_thumbnail(
            system,
            caller.person,
            grant_id,
            camera,
            PermissionDenied(
                f"grant {grant_id} is not being executed in this session: a witness must "
                "sign in on the grant's page first (two people, Art. 17(3))"
            ),
        )
    second = people.person_by_id(system, run.witness)
    jpeg = svc.thumbnail(
        system, grant_id=grant_id, camera=camera, at=moment, present=[caller.person, second]
    )
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
