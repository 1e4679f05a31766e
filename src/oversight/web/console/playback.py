"""Playback of granted footage in the page: HLS built from sealed segments.

Every footage URL needs a session, a custodian, a valid grant and the open two-person
execution of that grant in this session (``web/witness.py``). The playlist is built
from the segment index (no footage bytes); each ``init.mp4`` and ``media.m4s`` request
goes through the enforcement point (``services.footage.release``, kind ``view``) for
exactly that one segment, so each request leaves its own ``access`` leaf, committed
before any byte is sent. Refusals there are logged by the enforcement point too.

Only what the enforcement point hands over is served: the segment's file checked
against its sealed SHA-256 (a mismatch serves nothing and raises an alarm), and of it
only the init section and the whole fragments inside the grant, cut at keyframes
inward (``media/trim.py``). A segment the grant covers only in part is listed with the
times of that cut, read through the enforcement point too (a ``view.probe`` leaf).

Only H.264 in MP4 plays in the browser; other segments (H.265, MJPEG in Matroska) are
named as such on the page, which offers the evidence export instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Annotated, BinaryIO, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from oversight.api.security import Caller, need_governed
from oversight.bootstrap import System
from oversight.domain import access as rules
from oversight.domain import copies
from oversight.domain.people import Person
from oversight.errors import InvalidInput, NotFound
from oversight.media import trim
from oversight.services import access as svc
from oversight.services import footage, people, recording
from oversight.services.limits import MAX_ID
from oversight.web import hls, witness

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
    cameras: list[str] | None = None,
) -> tuple[svc.GrantRec, witness.Execution]:
    """The grant and this session's open execution of it; with ``check``, the grant is
    checked for viewing now (a refusal cites its article). Segment requests leave that
    check to the enforcement point, which also logs a refusal."""
    system = caller.system
    now = system.clock.now()
    grant, _ = svc.get_grant(system, caller.person, grant_id)
    run = witness.require(request, caller.token, grant_id, caller.person.id, now)
    cams = [camera] if camera is not None else cameras or sorted(grant.cameras)
    for cam in cams if check else []:
        rules.check_use(grant.to_domain(), "view", cam, grant.start, grant.end, now)
    return grant, run


def _segments(
    system: System, person: Person, grant: svc.GrantRec, camera: str
) -> list[recording.SegmentRec]:
    live = [
        seg
        for seg in recording.list_segments(
            system, person, camera=camera, start=grant.start, end=grant.end
        )
        if seg.deleted_at is None
    ]
    # The one recording the release hands over (services/footage.py chooses the same).
    return copies.one_recording(
        live, lambda seg: (seg.start, seg.end), lambda seg: copies.rank(seg.copy, seg.late)
    )


def _segment_camera(system: System, person: Person, segment_id: int) -> str | None:
    """The camera of a segment from the index (metadata only, no bytes). A segment that
    is not MP4 cannot be streamed: refused before anything is released."""
    seg = recording.get_segment(system, person, segment_id)
    if seg is not None and not seg.storage_key.endswith(".mp4"):
        raise InvalidInput(f"segment {segment_id} is not MP4: export it instead")
    return None if seg is None else seg.camera


def _handed(segment: footage.Segment) -> tuple[BinaryIO, trim.Cut]:
    """The verified open file and its cut, as the enforcement point handed them over."""
    if segment.handle is None or segment.cut is None:
        raise InvalidInput(f"segment {segment.segment_id} is not MP4: export it instead")
    return segment.handle, segment.cut


def _edges(
    system: System,
    caller: Caller,
    run: witness.Execution,
    grant: svc.GrantRec,
    segments: list[recording.SegmentRec],
) -> dict[int, trim.Cut]:
    """The cuts of the segments the grant covers only in part (at most the first and
    the last), read through the enforcement point (a ``view.probe`` leaf)."""
    edges = [s.id for s in segments if s.start < grant.start or s.end > grant.end]
    if not edges:
        return {}
    second = people.person_by_id(system, run.witness)
    with footage.release(
        system,
        grant_id=grant.id,
        kind="view",
        action="view.probe",
        present=[caller.person, second],
        uses=[footage.Use(segments[0].camera, grant.start, grant.end)],
        segment_ids=edges,
    ) as handover:
        return {seg.segment_id: _handed(seg)[1] for seg in handover.segments}


def _seconds(value: Fraction) -> timedelta:
    return timedelta(microseconds=int(value * 1_000_000))


def entries(
    grant: svc.GrantRec, segments: list[recording.SegmentRec], cuts: dict[int, trim.Cut]
) -> list[hls.Entry]:
    """The playlist's entries: each segment in scope with its wall-clock times, those of
    its cut where the grant covers it in part; a cut with no whole fragment is left out.
    The page's clock (``player_clock``) is built from the same entries."""
    out = []
    for seg in segments:
        cut = cuts.get(seg.id)
        if cut is not None and cut.media is None:
            continue  # no whole fragment inside the grant: nothing of it plays
        start, end = seg.start, seg.end
        if cut is not None:
            start, end = seg.start + _seconds(cut.start), seg.start + _seconds(cut.end)
        out.append(
            hls.Entry(
                start,
                end,
                f"/play/{grant.id}/seg/{seg.id}/init.mp4",
                f"/play/{grant.id}/seg/{seg.id}/media.m4s",
            )
        )
    return out


@router.get("/play/{grant_id}/{camera}/index.m3u8")
def playlist(request: Request, caller: Viewer, grant_id: Id, camera: str) -> Response:
    grant, run = _grant_for(request, caller, grant_id, camera)
    segments = _segments(caller.system, caller.person, grant, camera)
    if not segments:
        raise NotFound(f"no sealed footage of camera {camera} in the scope of grant {grant_id}")
    found = entries(grant, segments, _edges(caller.system, caller, run, grant, segments))
    if not found:
        raise NotFound(
            f"no keyframe of camera {camera} lies inside grant {grant_id}: the range is "
            "shorter than the camera's group of pictures, so nothing of it can be played"
        )
    return Response(hls.playlist(found), media_type=PLAYLIST_TYPE)


def _open_part(
    caller: Caller,
    grant_id: int,
    segment_id: int,
    run: witness.Execution,
    grant_start: datetime,
    grant_end: datetime,
    part: Literal["init", "media"],
) -> tuple[ExitStack, BinaryIO, int, int]:
    """Release one segment (its leaf committed, its file checked), and the byte range
    of ``part`` inside the grant. The caller owns the returned stack: closing it ends
    the handover."""
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
        f, cut = _handed(handover.segments[0])
        chosen = cut.init if part == "init" else cut.media
        if chosen is None:
            raise NotFound(
                f"segment {segment_id} has no keyframe inside grant {grant_id}: nothing of "
                "it can be played"
            )
        return stack, f, chosen[0], chosen[1]
    except BaseException:
        stack.close()
        raise


def _stream(stack: ExitStack, f: BinaryIO, lo: int, hi: int) -> Iterator[bytes]:
    """The range [lo, hi) of the handed-over file (the descriptor that was hashed)."""
    try:
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
    stack, f, lo, hi = await run_in_threadpool(
        _open_part, caller, grant_id, segment_id, run, grant.start, grant.end, part
    )
    return StreamingResponse(
        _stream(stack, f, lo, hi),
        media_type="video/mp4" if part == "init" else "video/iso.segment",
        headers={"Content-Length": str(hi - lo)},
    )


@router.get("/play/{grant_id}/seg/{segment_id}/init.mp4")
async def init_part(request: Request, caller: Viewer, grant_id: Id, segment_id: Id) -> Response:
    return await _serve(request, caller, grant_id, segment_id, "init")


@router.get("/play/{grant_id}/seg/{segment_id}/media.m4s")
async def media_part(request: Request, caller: Viewer, grant_id: Id, segment_id: Id) -> Response:
    return await _serve(request, caller, grant_id, segment_id, "media")
