"""Retention: how long footage is kept, what is marked important or held, and what a
purge would delete now. Custodians mark and hold; a hold is released by a second
person (the service refuses its placer); registrars set keep-for."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from oversight.api import roles
from oversight.api.security import Caller, need
from oversight.services import registry, retention
from oversight.web.forms import local_instant, size_text, text
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need(*roles.STAFF))]
Configurer = Annotated[Caller, Depends(need(*roles.REGISTRARS))]
Custodian = Annotated[Caller, Depends(need(*roles.CUSTODIANS))]
Camera = Annotated[str, Form(max_length=64)]
Moment = Annotated[str, Form(max_length=32)]
Reason = Annotated[str, Form(max_length=2000)]


def _back(anchor: str) -> Response:
    return RedirectResponse(f"/retention{anchor}", status_code=303)


@router.get("/retention")
def retention_page(request: Request, caller: Reader) -> Response:
    system = caller.system
    found = retention.state(system)
    plan = retention.make_plan(system)
    by_class = Counter(d.retention_class for d in plan.decisions)
    floors = {d.retention_class: d.floor for d in plan.decisions}
    person = caller.person
    return page(
        request,
        caller,
        "console/retention.html",
        policies=found.policies,
        marks=found.marks,
        holds=found.holds,
        plan=plan,
        by_class=sorted(by_class.items()),
        floors=floors,
        cameras=[cam for cam, _ in registry.list_cameras(system) if cam.removed is None],
        size=size_text,
        may_configure=person.has_role(*roles.REGISTRARS),
        may_hold=person.has_role(*roles.CUSTODIANS),
    )


@router.post("/retention/keep")
def keep_for(
    caller: Configurer,
    days: Annotated[int, Form(ge=1, le=36500)],
    camera: Camera = "",
) -> Response:
    retention.set_keep_for(caller.system, days, text(camera))
    return _back("#keep")


@router.post("/retention/marks")
def mark(caller: Custodian, camera: Camera, start: Moment, end: Moment, reason: Reason) -> Response:
    system = caller.system
    retention.mark_important(
        system,
        camera,
        local_instant(system, start, "from"),
        local_instant(system, end, "to"),
        reason,
    )
    return _back("#marks")


@router.post("/retention/holds")
def hold(caller: Custodian, camera: Camera, start: Moment, end: Moment, reason: Reason) -> Response:
    system = caller.system
    retention.place_hold(
        system,
        camera,
        local_instant(system, start, "from"),
        local_instant(system, end, "to"),
        reason,
    )
    return _back("#holds")


@router.post("/retention/holds/{hold_id}/release")
def release(
    hold_id: Annotated[int, Path(ge=1, le=2**62)], caller: Custodian, reason: Reason
) -> Response:
    retention.release_hold(caller.system, hold_id, reason)
    return _back("#holds")
