"""Shared steps of the player tests: real H.264 segments whose colour tells the time
(red in the first second of each segment, blue in the second), sealed at chosen
wall-clock times so a camera can have gaps, and a grant over several cameras."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from oversight.media.ffmpeg import MOVFLAGS, run_tool
from oversight.services.sealing import SealedSegment, seal_file
from tests.recorder.helpers import add_camera
from tests.web.conftest import Web
from tests.web.footage_helpers import T0, doc_files, grant_of, request_form

FPS = 25
SECONDS = 2


def colour_segment(path: Path, shade: int = 0) -> Path:
    """Two seconds at 25 fps: red, then blue; a keyframe every 5 frames (0.2 s). The
    ``shade`` (a touch of green) makes each file distinct: equal bytes seal once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = (
        f"color=c=0xff{shade:02x}00:s=160x90:r={FPS}:d=1[a];"
        f"color=c=0x00{shade:02x}ff:s=160x90:r={FPS}:d=1[b];"
        "[a][b]concat=n=2:v=1:a=0[v]"
    )
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast"]
    argv += ["-pix_fmt", "yuv420p", "-g", "5", "-bf", "0", "-movflags", MOVFLAGS, str(path)]
    out = run_tool(argv, timeout=60)
    assert out.returncode == 0, out.stderr
    return path


def seal_at(web: Web, tmp: Path, camera: str, offsets: list[float]) -> list[SealedSegment]:
    """One 2 s segment of ``camera`` at each offset (seconds after T0)."""
    add_camera(web.system, camera, f"rtsp://127.0.0.1:8554/{camera}")
    out = []
    for i, offset in enumerate(offsets):
        shade = (i * 7 + sum(map(ord, camera))) % 64
        path = colour_segment(tmp / f"spool-{camera}" / f"seg-{i:02d}.mp4", shade)
        at = T0 + timedelta(seconds=offset)
        end = at + timedelta(seconds=SECONDS)
        out.append(seal_file(web.system, camera=camera, path=path, start=at, end=end))
    return out


def grant_over(
    web: Web,
    cameras: list[str],
    start: datetime = T0,
    end: datetime = T0 + timedelta(minutes=1),
    kind: str = "view",
) -> int:
    """A grant of ``cameras`` over [start, end): entered by cop, approved by appr."""
    form: dict[str, Any] = request_form(cameras[0], kind)
    form.update(cameras=cameras, start=start.isoformat(), end=end.isoformat())
    reply = web.console("cop").submit("/access/new", form, files=doc_files())
    assert reply.status_code == 303, reply.text
    request_id = int(reply.headers["location"].rsplit("/", 1)[1])
    approved = web.console("appr").submit(
        f"/access/{request_id}/approve", {"note": "ok", "valid_days": "3"}
    )
    assert approved.status_code == 303, approved.text
    return grant_of(web, request_id)
