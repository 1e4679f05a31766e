"""The live wall: a grid of 1, 4, 9 or 16 tiles, each a camera watched live.

The page itself shows no footage: it names the cameras the person may watch (in scope,
``live.view``) and the tiles chosen. Each tile's player opens its own session through
the API's enforcement point (``api/routers/live.py``: the policy, training and a
``view.live`` leaf), keeps it alive with a heartbeat and ends it when the page goes.
A person whose roles never allow live view gets a 403 page and a refused leaf.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from oversight.api.security import Caller, need_governed
from oversight.errors import InvalidInput
from oversight.services import live
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Watcher = Annotated[Caller, Depends(need_governed("live.view", "view.live", "live:wall"))]
TILES = (1, 4, 9, 16)
HEARTBEAT_S = 10


def _chosen(names: list[str], tiles: int) -> list[str]:
    """The tiles' cameras in order ("" for an empty tile), at most one per tile."""
    if len(names) > max(TILES):
        raise InvalidInput(f"at most {max(TILES)} cameras on a wall")
    names = [c.strip() for c in names][:tiles]
    return [live.check_camera_id(c) if c else "" for c in names]


@router.get("/live")
def wall(
    request: Request,
    caller: Watcher,
    tiles: Annotated[int, Query(ge=1, le=16)] = 4,
    cam: Annotated[list[str] | None, Query(max_length=64)] = None,
) -> Response:
    if tiles not in TILES:
        raise InvalidInput(f"tiles must be one of {', '.join(map(str, TILES))}, not {tiles}")
    may = live.watchable(caller.system, caller.person)
    chosen = _chosen(cam or [], tiles) if cam is not None else may[:tiles]
    chosen += [""] * (tiles - len(chosen))
    return page(
        request,
        caller,
        "console/live.html",
        tiles=tiles,
        tile_counts=TILES,
        columns={1: 1, 4: 2, 9: 3, 16: 4}[tiles],
        chosen=chosen,
        watchable=may,
        heartbeat_s=HEARTBEAT_S,
    )
