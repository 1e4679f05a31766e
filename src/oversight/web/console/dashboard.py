"""The dashboard: what an operator checks first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from oversight.api.security import Caller, need
from oversight.services import recording
from oversight.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/")
async def dashboard(request: Request, caller: Annotated[Caller, Depends(need())]) -> Response:
    statuses = await run_in_threadpool(recording.list_status, caller.system)
    return page(request, caller, "console/dashboard.html", statuses=statuses)
