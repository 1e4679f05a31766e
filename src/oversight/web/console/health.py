"""The health page: each camera's live state and the alarms, acknowledged here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from oversight.api.security import Caller, may, need
from oversight.services import alarms, health
from oversight.services.limits import MAX_ID
from oversight.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/health")
def health_page(
    request: Request, caller: Annotated[Caller, Depends(need("recordings.read"))]
) -> Response:
    everything = alarms.list_alarms(caller.system, caller.person)
    return page(
        request,
        caller,
        "console/health.html",
        cameras=health.report(caller.system, caller.person),
        open_alarms=[a for a in everything if a.is_open],
        closed_alarms=[a for a in everything if not a.is_open][:50],
        may_ack=may(caller.person, "alarms.ack"),
    )


@router.post("/alarms/{alarm_id}/ack")
def acknowledge(
    alarm_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    caller: Annotated[Caller, Depends(need("alarms.ack"))],
    note: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=200)] = "/health",
) -> Response:
    alarms.acknowledge(caller.system, caller.person, alarm_id, note)
    # The banner acknowledges from any page and comes back to it: a local path only.
    back = next if next.startswith("/") and not next.startswith(("//", "/\\")) else "/health"
    return RedirectResponse(back, status_code=303)
