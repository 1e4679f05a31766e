"""Playback of granted footage in the page: HLS built from sealed segments.

Every footage URL needs a session, a custodian, a valid grant and the open two-person
execution of that grant in this session (``web/witness.py``). The playlist is built
from the segment index (no footage bytes); each ``init.mp4`` and ``media.m4s`` request
goes through the enforcement point (``services.footage.release``, kind ``view``) for
exactly that one segment, so each request leaves its own ``access`` leaf, committed
before any byte is sent. Refusals there are logged by the enforcement point too.

Only H.264 in MP4 plays in the browser; other segments (H.265, MJPEG in Matroska) are
named as such on the page, which offers the evidence export instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from oversight.api.security import Caller, need_governed
from oversight.bootstrap import System
from oversight.domain import access as rules
from oversight.domain.people import Person
from oversight.errors import InvalidInput, NotFound
from oversight.services import access as svc
from oversight.services import footage, people, recording
from oversight.services.limits import MAX_ID
from oversight.web import hls, witness
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Viewer = Annotated[Caller, Depends(need_governed("footage.view", "view", "grant:{grant_id}"))]
CHUNK = 1 << 18
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


def _grant_for(
    request: Request,
    caller: Caller,
    grant_id: int,
    camera: str | None = None,
    *,
    check: bool = True,
) -> tuple[svc.GrantRec, witness.Execution]:
    """The grant and this session's open execution of it; with ``check``, the grant is
    checked for viewing now (a refusal cites its article). Segment requests leave that
    check to the enforcement point, which also logs a refusal."""
    system = caller.system
    now = system.clock.now()
    grant, _ = svc.get_grant(system, caller.person, grant_id)
    run = witness.require(request, caller.token, grant_id, caller.person.id, now)
    cams = [camera] if camera is not None else sorted(grant.cameras)
    for cam in cams if check else []:
        rules.check_use(grant.to_domain(), "view", cam, grant.start, grant.end, now)
    return grant, run


def _segments(
    system: System, person: Person, grant: svc.GrantRec, camera: str
) -> list[recording.SegmentRec]:
    return [
        seg
        for seg in recording.list_segments(
            system, person, camera=camera, start=grant.start, end=grant.end
        )
        if seg.deleted_at is None
    ]


def _segment_camera(system: System, person: Person, segment_id: int) -> str | None:
    """The camera of a segment from the index (metadata only, no bytes). A segment that
    is not MP4 cannot be streamed: refused before anything is released."""
    seg = recording.get_segment(system, person, segment_id)
    if seg is not None and not seg.storage_key.endswith(".mp4"):
        raise InvalidInput(f"segment {segment_id} is not MP4: export it instead")
    return None if seg is None else seg.camera


@router.get("/play/{grant_id}")
def player(request: Request, caller: Viewer, grant_id: Id, camera: str = "") -> Response:
    system = caller.system
    grant, run = _grant_for(request, caller, grant_id, camera or None)
    chosen = camera or sorted(grant.cameras)[0]
    segments = _segments(system, caller.person, grant, chosen)
    if not segments:
        raise NotFound(f"no sealed footage of camera {chosen} in the scope of grant {grant_id}")
    codec = _probe(system, caller, run, grant, segments)
    return page(
        request,
        caller,
        "console/playback.html",
        grant=grant,
        camera=chosen,
        cameras=sorted(grant.cameras),
        segments=segments,
        codec=codec,
        playable=hls.playable(codec),
        execution=run,
        playlist=f"/play/{grant.id}/{chosen}/index.m3u8",
    )


def _probe(
    system: System,
    caller: Caller,
    run: witness.Execution,
    grant: svc.GrantRec,
    segments: list[recording.SegmentRec],
) -> str | None:
    """The video codec of the camera's first segment in scope. A Matroska segment is
    not MP4 (MJPEG and the like): no bytes needed. An MP4's codec is in its init
    section, read through the enforcement point (a ``view.probe`` leaf)."""
    first = segments[0]
    if not first.storage_key.endswith(".mp4"):
        return Path(first.storage_key).suffix.lstrip(".") or None
    second = people.person_by_id(system, run.witness)
    with footage.release(
        system,
        grant_id=grant.id,
        kind="view",
        action="view.probe",
        present=[caller.person, second],
        uses=[footage.Use(first.camera, grant.start, grant.end)],
        segment_ids=[first.id],
    ) as handover:
        path = handover.segments[0].file.path
        with path.open("rb") as f:
            parts = hls.split(f, path.stat().st_size)
            f.seek(0)
            return hls.video_codec(f.read(parts.init[1]))


@router.get("/play/{grant_id}/{camera}/index.m3u8")
def playlist(request: Request, caller: Viewer, grant_id: Id, camera: str) -> Response:
    grant, _ = _grant_for(request, caller, grant_id, camera)
    segments = _segments(caller.system, caller.person, grant, camera)
    if not segments:
        raise NotFound(f"no sealed footage of camera {camera} in the scope of grant {grant_id}")
    entries = [
        hls.Entry(
            seg.start,
            seg.end,
            f"/play/{grant.id}/seg/{seg.id}/init.mp4",
            f"/play/{grant.id}/seg/{seg.id}/media.m4s",
        )
        for seg in segments
    ]
    return Response(hls.playlist(entries), media_type=PLAYLIST_TYPE)


def _open_part(
    caller: Caller,
    grant_id: int,
    segment_id: int,
    run: witness.Execution,
    grant_start: datetime,
    grant_end: datetime,
    part: Literal["init", "media"],
) -> tuple[ExitStack, Path, int, int]:
    """Release one segment (its leaf committed), and find the byte range of ``part``.
    The caller owns the returned stack: closing it ends the handover."""
    system = caller.system
    second = people.person_by_id(system, run.witness)
    camera = _segment_camera(system, caller.person, segment_id)
    uses = None if camera is None else [footage.Use(camera, grant_start, grant_end)]
    stack = ExitStack()
    try:
        handover = stack.enter_context(
            footage.release(
                system,
                grant_id=grant_id,
                kind="view",
                action="view",
                present=[caller.person, second],
                uses=uses,
                segment_ids=[segment_id],
            )
        )
        path = handover.segments[0].file.path
        size = path.stat().st_size
        with path.open("rb") as f:
            parts = hls.split(f, size)
        lo, hi = parts.init if part == "init" else parts.media
        return stack, path, lo, hi
    except BaseException:
        stack.close()
        raise


def _stream(stack: ExitStack, path: Path, lo: int, hi: int) -> Iterator[bytes]:
    try:
        with path.open("rb") as f:
            f.seek(lo)
            left = hi - lo
            while left > 0:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
    finally:
        stack.close()


async def _serve(
    request: Request,
    caller: Caller,
    grant_id: int,
    segment_id: int,
    part: Literal["init", "media"],
) -> Response:
    grant, run = await run_in_threadpool(lambda: _grant_for(request, caller, grant_id, check=False))
    stack, path, lo, hi = await run_in_threadpool(
        _open_part, caller, grant_id, segment_id, run, grant.start, grant.end, part
    )
    return StreamingResponse(
        _stream(stack, path, lo, hi),
        media_type="video/mp4" if part == "init" else "video/iso.segment",
        headers={"Content-Length": str(hi - lo)},
    )


@router.get("/play/{grant_id}/seg/{segment_id}/init.mp4")
async def init_part(request: Request, caller: Viewer, grant_id: Id, segment_id: Id) -> Response:
    return await _serve(request, caller, grant_id, segment_id, "init")


@router.get("/play/{grant_id}/seg/{segment_id}/media.m4s")
async def media_part(request: Request, caller: Viewer, grant_id: Id, segment_id: Id) -> Response:
    return await _serve(request, caller, grant_id, segment_id, "media")
