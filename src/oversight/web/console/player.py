"""The player page: up to ``player_max_cameras`` cameras of one grant, in sync, on the
wall clock.

``GET /play/{grant}?camera=A&camera=B&start=ISO&end=ISO&at=ISO`` (every parameter
optional: by default the grant's first cameras, its whole range, from its start). The
page is given, per camera, the playlist it plays (``console/playback.py``: every part
through the enforcement point, a leaf each) and that playlist's clock
(``player_clock``): where each released piece lies in media time and on the wall
clock, and the gaps of the range shown. Both come from the same entries, so the time
shown is the time of the frame played. Reading them needs each camera's codec and the
cuts of its edge segments: one ``view.probe`` release per camera.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from oversight.api.security import Caller
from oversight.bootstrap import System
from oversight.errors import InvalidInput, NotFound
from oversight.media import trim
from oversight.services import access as svc
from oversight.services import footage, people, recording
from oversight.web import forms, hls, witness
from oversight.web.console import player_clock
from oversight.web.console.playback import Id, Viewer, _grant_for, _handed, _segments, entries
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
DEFAULT_FPS = 25
Cameras = Annotated[list[str], Query(max_length=8)]
Instant = Annotated[str, Query(max_length=40)]


def instant(system: System, value: str, what: str) -> datetime | None:
    """An ISO 8601 instant of the query ('+' of an offset may arrive as a space)."""
    if not value.strip():
        return None
    text = value.strip()
    if "T" in text and " " in text:
        text = text.replace(" ", "+")
    return forms.local_instant(system, text, what)


def window(
    system: System, grant: svc.GrantRec, start: str, end: str, at: str
) -> tuple[datetime, datetime, datetime]:
    """The range shown (inside the grant) and the instant playback starts at."""
    lo = instant(system, start, "start") or grant.start
    hi = instant(system, end, "end") or grant.end
    if hi <= lo:
        raise InvalidInput(f"the range shown ends ({hi.isoformat()}) before it starts")
    lo, hi = max(lo, grant.start), min(hi, grant.end)
    if hi <= lo:
        raise InvalidInput(
            f"the range asked lies outside grant {grant.id} "
            f"({grant.start.isoformat()} .. {grant.end.isoformat()})"
        )
    first = instant(system, at, "at") or lo
    if not lo <= first < hi:
        raise InvalidInput(
            f"at: {first.isoformat()} is outside the range shown "
            f"({lo.isoformat()} .. {hi.isoformat()})"
        )
    return lo, hi, first


def _probe(
    system: System,
    caller: Caller,
    run: witness.Execution,
    grant: svc.GrantRec,
    segments: list[recording.SegmentRec],
) -> tuple[str | None, dict[int, trim.Cut]]:
    """The camera's video codec (from its first segment's init section) and the cuts of
    the segments the grant covers in part, in one release (a ``view.probe`` leaf). A
    segment that is not MP4 (MJPEG in Matroska) needs no bytes: it cannot play."""
    first = segments[0]
    if not first.storage_key.endswith(".mp4"):
        return Path(first.storage_key).suffix.lstrip(".") or None, {}
    edges = {s.id for s in segments if s.start < grant.start or s.end > grant.end}
    second = people.person_by_id(system, run.witness)
    with footage.release(
        system,
        grant_id=grant.id,
        kind="view",
        action="view.probe",
        present=[caller.person, second],
        uses=[footage.Use(first.camera, grant.start, grant.end)],
        segment_ids=sorted(edges | {first.id}),
    ) as handover:
        handed = {seg.segment_id: _handed(seg) for seg in handover.segments}
        f, cut = handed[first.id]
        f.seek(cut.init[0])
        codec = hls.video_codec(f.read(cut.init[1] - cut.init[0]))
        return codec, {sid: handed[sid][1] for sid in edges if sid in handed}


def _camera(
    system: System,
    caller: Caller,
    run: witness.Execution,
    grant: svc.GrantRec,
    camera: str,
    shown: tuple[datetime, datetime],
) -> dict[str, Any]:
    """One camera's tile: its playlist, codec and clock (empty when it has no footage)."""
    segments = _segments(system, caller.person, grant, camera)
    codec, cuts = _probe(system, caller, run, grant, segments) if segments else (None, {})
    found = entries(grant, segments, cuts) if hls.playable(codec) else []
    pieces = player_clock.pieces([(e.start, e.end) for e in found])
    return {
        "id": camera,
        "codec": codec,
        "playable": hls.playable(codec),
        "inside": bool(found),  # a whole group of pictures lies inside the grant
        "segments": len(segments),
        "playlist": f"/play/{grant.id}/{camera}/index.m3u8",
        "fps": None,  # not in the index: the page measures it, else DEFAULT_FPS
        **player_clock.as_data(pieces, *shown),
    }


@router.get("/play/{grant_id}")
def player(
    request: Request,
    caller: Viewer,
    grant_id: Id,
    camera: Cameras = [],  # noqa: B006 - FastAPI copies a query default
    start: Instant = "",
    end: Instant = "",
    at: Instant = "",
) -> Response:
    system = caller.system
    most = system.settings.player_max_cameras
    grant, _ = svc.get_grant(system, caller.person, grant_id)
    chosen = list(dict.fromkeys(c.strip() for c in camera if c.strip()))
    if len(chosen) > most:
        raise InvalidInput(f"the player shows at most {most} cameras at once, not {len(chosen)}")
    chosen = chosen or sorted(grant.cameras)[:most]
    grant, run = _grant_for(request, caller, grant_id, cameras=chosen)
    lo, hi, first = window(system, grant, start, end, at)
    tiles = [_camera(system, caller, run, grant, cam, (lo, hi)) for cam in chosen]
    if not any(tile["segments"] for tile in tiles):
        raise NotFound(
            f"no sealed footage of camera {', '.join(chosen)} in the scope of grant {grant_id}"
        )
    data = {
        "grant": grant.id,
        "window": {"start": player_clock.millis(lo), "end": player_clock.millis(hi)},
        "at": player_clock.millis(first),
        "tz": str(system.packs.timezone),
        "fps": DEFAULT_FPS,
        "snapshot": f"/play/{grant.id}/snapshot",
        "cameras": [t for t in tiles if t["playable"]],
    }
    return page(
        request,
        caller,
        "console/playback.html",
        grant=grant,
        camera=chosen[0],
        chosen=chosen,
        cameras=sorted(grant.cameras),
        most=most,
        tiles=tiles,
        codec=tiles[0]["codec"],
        playable=any(t["playable"] for t in tiles),
        execution=run,
        playlist=tiles[0]["playlist"],
        shown=(lo, hi),
        data=data,
    )
