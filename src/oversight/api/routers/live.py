"""``/api/v1`` live view: a camera's live window as HLS, through the enforcement point
(``services/live.py``), never as static files.

``POST /cameras/{id}/live`` opens a session (the policy and training decided, the
``view.live`` leaf committed) and names its playlist; ``GET /cameras/{id}/live.m3u8``
without ``session`` does the same and redirects to it, for players that only take a
URL. The playlist names only the part routes below, which check the session; each
playlist fetch and each ``heartbeat`` keeps the session alive, ``end`` closes it (a
``view.live.end`` leaf), and a session nobody touches ends by itself.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from oversight.api.schemas import ERRORS
from oversight.api.security import Caller, need
from oversight.services import live

router = APIRouter(tags=["live"], responses=ERRORS)
Watcher = Annotated[Caller, Depends(need())]
CameraId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Token = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PartName = Annotated[str, Path(min_length=8, max_length=24)]
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
NO_STORE = {"Cache-Control": "no-store"}
_made = threading.Lock()
# A blocking playlist reload (``_HLS_msn``) waits at most this long for its part, checking
# every BLOCK_POLL_S; then the playlist as it is (the player asks again).
BLOCK_MAX_S = 6.0
BLOCK_POLL_S = 0.05


class LiveOut(BaseModel):
    session: str
    number: int  # the index of the session's view.live leaf
    camera: str
    playlist: str
    heartbeat: str
    end: str
    heartbeat_timeout_s: float


def sessions_of(request: Request) -> live.LiveSessions:
    """The app's live sessions (one registry per server process)."""
    state = request.app.state
    with _made:
        if getattr(state, "live_sessions", None) is None:
            state.live_sessions = live.LiveSessions(state.system)
    found: live.LiveSessions = state.live_sessions
    return found


def _base(camera: str, token: str) -> str:
    return f"/api/v1/cameras/{quote(camera)}/live/{token}"


def _out(caller: Caller, session: live.LiveSession) -> LiveOut:
    base = _base(session.camera, session.token)
    return LiveOut(
        session=session.token,
        number=session.number,
        camera=session.camera,
        playlist=f"/api/v1/cameras/{quote(session.camera)}/live.m3u8?session={session.token}",
        heartbeat=f"{base}/heartbeat",
        end=f"{base}/end",
        heartbeat_timeout_s=caller.system.settings.live_heartbeat_timeout_s,
    )


@router.post(
    "/cameras/{camera}/live",
    status_code=201,
    response_model=LiveOut,
    summary="Start watching a camera live (role, scope and training; a view.live leaf)",
)
async def start(camera: CameraId, caller: Watcher, request: Request) -> LiveOut:
    registry = sessions_of(request)
    session = await run_in_threadpool(live.start, caller.system, registry, caller.person, camera)
    return _out(caller, session)


@router.get(
    "/cameras/{camera}/live.m3u8",
    response_class=Response,
    summary="The camera's live playlist (parts served through the session's routes)",
    responses={200: {"content": {PLAYLIST_TYPE: {}}}, 307: {"description": "A new session"}},
)
async def playlist(
    camera: CameraId,
    caller: Watcher,
    request: Request,
    session: Annotated[
        str | None, Query(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    ] = None,
    msn: Annotated[int | None, Query(alias="_HLS_msn", ge=0, le=1 << 40)] = None,
) -> Response:
    registry = sessions_of(request)
    system, person = caller.system, caller.person
    if session is None:
        opened = await run_in_threadpool(live.start, system, registry, person, camera)
        return RedirectResponse(_out(caller, opened).playlist, status_code=307)
    found = await run_in_threadpool(live.touch, system, registry, person, session, camera)
    base = _base(camera, found.token)

    def read() -> str:
        return live.playlist(system, found, lambda name: f"{base}/{name}")

    text = await run_in_threadpool(read)
    if msn is not None:  # a blocking reload: answer once part ``msn`` is listed
        deadline = time.monotonic() + BLOCK_MAX_S
        while live.next_sequence(text) <= msn and time.monotonic() < deadline:
            await asyncio.sleep(BLOCK_POLL_S)
            text = await run_in_threadpool(read)
    return Response(text, media_type=PLAYLIST_TYPE, headers=NO_STORE)


@router.get(
    "/cameras/{camera}/live/{token}/{name}",
    response_class=Response,
    summary="One part (or the init section) of a live session's window",
    responses={200: {"content": {"video/mp4": {}, "video/iso.segment": {}}}},
)
async def part(
    camera: CameraId, token: Token, name: PartName, caller: Watcher, request: Request
) -> Response:
    registry = sessions_of(request)
    found = await run_in_threadpool(
        live.touch, caller.system, registry, caller.person, token, camera
    )
    data = await run_in_threadpool(live.read_part, caller.system, found, name)
    kind = "video/mp4" if name.endswith(".mp4") else "video/iso.segment"
    return Response(data, media_type=kind, headers=NO_STORE)


@router.post(
    "/cameras/{camera}/live/{token}/heartbeat",
    status_code=204,
    response_class=Response,
    summary="Keep a live session open (the page sends one every 10 s)",
)
async def heartbeat(camera: CameraId, token: Token, caller: Watcher, request: Request) -> Response:
    registry = sessions_of(request)
    await run_in_threadpool(live.touch, caller.system, registry, caller.person, token, camera)
    return Response(status_code=204)


@router.post(
    "/cameras/{camera}/live/{token}/end",
    status_code=204,
    response_class=Response,
    summary="Stop watching: the session's view.live.end leaf",
)
async def end(camera: CameraId, token: Token, caller: Watcher, request: Request) -> Response:
    registry = sessions_of(request)
    await run_in_threadpool(live.end, caller.system, registry, caller.person, token)
    return Response(status_code=204)
