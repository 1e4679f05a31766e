"""The dashboard: what an operator checks first. Camera status refreshes itself every
5 s and the open-findings card loads after the page (htmx fragments); the rest is read
once per page view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from oversight.api.security import Caller, may, need
from oversight.services import capacity, compliance, liveness, recording, verify
from oversight.web import timeline_view
from oversight.web.forms import size_text
from oversight.web.render import context, environment, page

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Caller, Depends(need())]
Staff = Annotated[Caller, Depends(need("recordings.read"))]
TIMELINE_KINDS = ("recorded", "gap", "important", "held")


@dataclass(frozen=True)
class CameraLine:
    camera: str
    fraction: float
    svg: str
    segments: int = 0

    @property
    def percent(self) -> str:
        """Share recorded, without calling a few seconds in a week "0.0"."""
        pct = self.fraction * 100
        return "<0.1" if 0 < pct < 0.1 else f"{pct:.1f}"


def timeline_labels(request: Request, caller: Caller) -> dict[str, str]:
    t = context(request, caller)["t"]
    return {kind: t(f"timeline.{kind}") for kind in TIMELINE_KINDS}


@router.get("/")
def dashboard(request: Request, caller: Anyone) -> Response:
    system = caller.system
    staff = may(caller.person, "recordings.read")
    statuses = recording.list_status(system, caller.person) if staff else []
    cameras = [s.camera for s in statuses]
    recorder = liveness.recorder(statuses)
    with system.reads() as session:
        checkpoint = system.ledger.latest_checkpoint(session)
    # The last 24 hours; its links go to the timeline page (zoom, pan, pick a range).
    win = timeline_view.window_of(caller, "", "", "24h")
    lines, _ = timeline_view.rows(request, caller, cameras, win, "/timeline")
    moves, presets = timeline_view.controls(win, "/timeline")
    return page(
        request,
        caller,
        "console/dashboard.html",
        statuses=statuses,
        recorder=recorder,
        monitor=liveness.monitor(system, cameras),
        rows=lines,
        win=win,
        moves=moves,
        presets=presets,
        pick=None,
        capacity=capacity.measure(system),
        staff=staff,
        checkpoint=checkpoint,
        run=verify.latest_run(system),
        size=size_text,
    )


@router.get("/fragments/camera-status")
def camera_status(request: Request, caller: Anyone) -> Response:
    """The camera table alone, for htmx to swap in every few seconds."""
    staff = may(caller.person, "recordings.read")
    statuses = recording.list_status(caller.system, caller.person) if staff else []
    values = context(request, caller, statuses=statuses, recorder=liveness.recorder(statuses))
    html = environment().get_template("console/_camera_status.html").render(values)
    return HTMLResponse(html)


@router.get("/fragments/findings")
def findings_card(request: Request, caller: Staff) -> Response:
    """The open-findings card, loaded after the page: the report plans retention over
    every segment, which should not hold up the rest of the dashboard."""
    findings = compliance.report(caller.system).findings
    values = context(request, caller, findings=findings)
    return HTMLResponse(environment().get_template("console/_findings.html").render(values))
