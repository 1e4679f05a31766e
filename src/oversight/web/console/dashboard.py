"""The dashboard: what an operator checks first. Camera status refreshes itself every
5 s (an htmx fragment); the rest is read once per page view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from oversight.api import roles
from oversight.api.security import Caller, may, need
from oversight.bootstrap import System
from oversight.services import capacity, compliance, coverage, recording, verify
from oversight.web.forms import size_text
from oversight.web.render import context, environment, page
from oversight.web.timeline import timeline_svg

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Caller, Depends(need(*roles.ANYONE))]
DAY = timedelta(hours=24)
TIMELINE_KINDS = ("recorded", "gap", "important", "held")


@dataclass(frozen=True)
class CameraLine:
    camera: str
    fraction: float
    svg: str

    @property
    def percent(self) -> str:
        """Share recorded, without calling a few seconds in a week "0.0"."""
        pct = self.fraction * 100
        return "<0.1" if 0 < pct < 0.1 else f"{pct:.1f}"


def timelines(
    system: System, cameras: list[str], span: timedelta, labels: dict[str, str]
) -> list[CameraLine]:
    """Each camera's coverage picture over the last ``span``."""
    end = system.clock.now()
    out = []
    for camera in cameras:
        cov = coverage.coverage(system, camera, end - span, end)
        out.append(
            CameraLine(
                camera, cov.fraction, timeline_svg(cov, system.packs.timezone, labels=labels)
            )
        )
    return out


def timeline_labels(request: Request, caller: Caller) -> dict[str, str]:
    t = context(request, caller)["t"]
    return {kind: t(f"timeline.{kind}") for kind in TIMELINE_KINDS}


@router.get("/")
def dashboard(request: Request, caller: Anyone) -> Response:
    system = caller.system
    statuses = recording.list_status(system)
    cameras = [s.camera for s in statuses]
    with system.sessions() as session:
        checkpoint = system.ledger.latest_checkpoint(session)
    findings = None
    if may(caller.person, roles.STAFF):
        findings = compliance.report(system).findings
    return page(
        request,
        caller,
        "console/dashboard.html",
        statuses=statuses,
        lines=timelines(system, cameras, DAY, timeline_labels(request, caller)),
        capacity=capacity.measure(system),
        findings=findings,
        checkpoint=checkpoint,
        run=verify.latest_run(system),
        size=size_text,
    )


@router.get("/fragments/camera-status")
def camera_status(request: Request, caller: Anyone) -> Response:
    """The camera table alone, for htmx to swap in every few seconds."""
    values = context(request, caller, statuses=recording.list_status(caller.system))
    html = environment().get_template("console/_camera_status.html").render(values)
    return HTMLResponse(html)
