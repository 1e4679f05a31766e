"""Recordings: camera status, sealed segments (metadata only: footage itself is reached
only through a grant, on the access pages) and gaps, filtered by camera and local
dates; and one camera's page with its 7-day coverage timeline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from oversight.api.security import Caller, need
from oversight.bootstrap import System
from oversight.domain.people import Person
from oversight.redaction import redact_url
from oversight.services import recording, registry
from oversight.web import timeline_view
from oversight.web.console.registry import vocabularies
from oversight.web.forms import day_range, optional_date, size_text, text
from oversight.web.render import language, page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need("recordings.read"))]
SHOWN = 200  # newest segments listed; the API pages through all of them
RECENT = 50  # on a camera's page, under its timeline
WEEK = timedelta(days=7)


def _gaps(
    system: System, person: Person, camera: str | None, start: datetime, end: datetime
) -> list[recording.GapRec]:
    found = recording.list_gaps(system, person, camera)
    return [g for g in found if g.end > start and g.start < end]


@router.get("/recordings")
def recordings_page(
    request: Request,
    caller: Reader,
    camera: Annotated[str, Query(max_length=64)] = "",
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    system = caller.system
    chosen = text(camera)
    first, last = optional_date(start, "from"), optional_date(end, "to")
    lo, hi = day_range(system, first, last)
    now = system.clock.now()
    lo = lo or (now - timedelta(hours=24) if hi is None else hi - timedelta(hours=24))
    hi = hi or now
    segments = recording.list_segments(
        system, caller.person, camera=chosen, start=lo, end=hi, limit=SHOWN + 1, newest_first=True
    )
    return page(
        request,
        caller,
        "console/recordings.html",
        statuses=recording.list_status(system, caller.person),
        cameras=[cam.id for cam, _ in registry.list_cameras(system, caller.person)],
        chosen=chosen,
        first=first,
        last=last,
        lo=lo,
        hi=hi,
        more=len(segments) > SHOWN,
        segments=segments[:SHOWN],
        shown=SHOWN,
        gaps=_gaps(system, caller.person, chosen, lo, hi),
        size=size_text,
        length=timeline_view.lengths(request, caller),
    )


@router.get("/recordings/{camera_id}")
def camera_page(
    request: Request,
    caller: Reader,
    camera_id: Annotated[str, Path(max_length=64)],
    span: Annotated[str, Query(max_length=64)] = "",
    end: Annotated[str, Query(max_length=64)] = "",
    sel_camera: Annotated[str, Query(max_length=64)] = "",
    sel_start: Annotated[str, Query(max_length=64)] = "",
    sel_end: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    system = caller.system
    camera, url, masks = registry.get_camera(system, caller.person, camera_id)
    now = system.clock.now()
    # The timeline: 7 days unless ?span= and ?end= say otherwise (web/timeline_window.py).
    base = f"/recordings/{camera_id}"
    win = timeline_view.window_of(caller, span, end, "7d")
    rows, grants = timeline_view.rows(request, caller, [camera_id], win, base)
    picked = timeline_view.pick(
        request, caller, [camera_id], grants, sel_camera, sel_start, sel_end
    )
    moves, presets = timeline_view.controls(win, base)
    line = rows[0]
    segments = recording.list_segments(
        system,
        caller.person,
        camera=camera_id,
        start=now - WEEK,
        end=now,
        limit=RECENT,
        newest_first=True,
    )
    return page(
        request,
        caller,
        "console/recording_camera.html",
        camera=camera,
        stream=redact_url(url),
        masks=len(masks),
        vocab=vocabularies(system, language(request)),
        camera_status=recording.get_status(system, camera_id),
        line=line,
        rows=rows,
        win=win,
        moves=moves,
        presets=presets,
        pick=picked,
        gaps=list(reversed(_gaps(system, caller.person, camera_id, now - WEEK, now))),
        total=line.segments,
        segments=segments,
        size=size_text,
        length=timeline_view.lengths(request, caller),
    )
