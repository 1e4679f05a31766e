"""Filing (备案): the filings owed, earliest due first, a form to record one, and the
printable filing form of a camera's site."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from oversight.api.security import CSP, Caller, may, need
from oversight.domain.model import FILING_KINDS
from oversight.services import compliance, filing_form, registry
from oversight.web.forms import a_date, text, today
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need("registry.read"))]
Registrar = Annotated[Caller, Depends(need("registry.write"))]
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def printable(html: str) -> HTMLResponse:
    """A self-contained printable page (filing form, compliance report) whose one
    ``<style>`` block the CSP admits by its hash; scripts stay forbidden."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _STYLE.findall(html)
    ]
    csp = CSP.replace("style-src 'self'", " ".join(["style-src 'self'", *hashes]))
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


@router.get("/filing")
def filing_page(
    request: Request,
    caller: Reader,
    show_all: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    system = caller.system
    day, obligations = compliance.due_filings(system, include_filed=show_all)
    cameras = [cam for cam, _ in registry.list_cameras(system, caller.person)]
    return page(
        request,
        caller,
        "console/filing.html",
        day=day,
        obligations=obligations,
        cameras=cameras,
        kinds=FILING_KINDS,
        show_all=show_all,
        today=today(system),
        may_change=may(caller.person, "registry.write"),
    )


@router.post("/filing")
def record_filing(
    caller: Registrar,
    camera_id: Annotated[str, Form(max_length=64)],
    kind: Annotated[str, Form(max_length=32)],
    filed_on: Annotated[str, Form(max_length=10)],
    receipt: Annotated[str, Form(max_length=200)],
    police_office: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    registry.record_filing(
        caller.system,
        caller.person,
        camera_id=camera_id,
        kind=kind,
        filed_on=a_date(filed_on, "filed on"),
        receipt=receipt,
        police_office=text(police_office),
    )
    return RedirectResponse("/filing", status_code=303)


@router.get("/filing/{camera_id}/form")
def printable_form(camera_id: Annotated[str, Path(max_length=64)], caller: Reader) -> HTMLResponse:
    camera, _, _ = registry.get_camera(caller.system, caller.person, camera_id)
    return printable(filing_form.render(caller.system, caller.person, camera.site_id))
