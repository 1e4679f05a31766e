"""Retention: how long footage is kept, what is marked important or held, and what a
purge would delete now. Custodians mark and hold; a hold is released by a second
person (the service refuses its placer); registrars set keep-for."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from oversight.api.security import Caller, may, need, need_governed
from oversight.services import registry, retention
from oversight.web.forms import local_instant, size_text, text
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need("retention.read"))]
Configurer = Annotated[Caller, Depends(need("retention.configure"))]
Marker = Annotated[Caller, Depends(need_governed("retention.mark", "retention.mark", "camera:?"))]
Holder = Annotated[Caller, Depends(need_governed("retention.mark", "retention.hold", "camera:?"))]
Releaser = Annotated[
    Caller, Depends(need_governed("retention.release", "retention.release", "hold:{hold_id}"))
]
Camera = Annotated[str, Form(max_length=64)]
Moment = Annotated[str, Form(max_length=32)]
Reason = Annotated[str, Form(max_length=2000)]


def _back(anchor: str) -> Response:
    return RedirectResponse(f"/retention{anchor}", status_code=303)


@router.get("/retention")
def retention_page(request: Request, caller: Reader) -> Response:
    system = caller.system
    found = retention.state(system, caller.person)
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
        cameras=[
            cam for cam, _ in registry.list_cameras(system, caller.person) if cam.removed is None
        ],
        size=size_text,
        may_configure=may(person, "retention.configure"),
        may_hold=may(person, "retention.mark"),
    )


@router.post("/retention/keep")
def keep_for(
    caller: Configurer,
    days: Annotated[int, Form(ge=1, le=36500)],
    camera: Camera = "",
) -> Response:
    retention.set_keep_for(caller.system, caller.person, days, text(camera))
    return _back("#keep")


@router.post("/retention/marks")
def mark(caller: Marker, camera: Camera, start: Moment, end: Moment, reason: Reason) -> Response:
    system = caller.system
    retention.mark_important(
        system,
        caller.person,
        camera,
        local_instant(system, start, "from"),
        local_instant(system, end, "to"),
        reason,
    )
    return _back("#marks")


@router.post("/retention/holds")
def hold(caller: Holder, camera: Camera, start: Moment, end: Moment, reason: Reason) -> Response:
    system = caller.system
    retention.place_hold(
        system,
        caller.person,
        camera,
        local_instant(system, start, "from"),
        local_instant(system, end, "to"),
        reason,
    )
    return _back("#holds")


@router.post("/retention/holds/{hold_id}/release")
def release(
    hold_id: Annotated[int, Path(ge=1, le=2**62)], caller: Releaser, reason: Reason
) -> Response:
    retention.release_hold(caller.system, caller.person, hold_id, reason)
    return _back("#holds")
