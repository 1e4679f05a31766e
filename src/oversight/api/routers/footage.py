"""``/api/v1`` execution of grants: the evidence package as a .zip download.

Two people, as on the command line (``oversight export``): the caller (a custodian,
by bearer token) and a witness who gives their own user id and password in the body,
checked through the login limiter (``api.security.check_password``). The export runs
through the enforcement point (its ``export`` leaf is committed before any footage is
read) and the package, unzipped, verifies with ``oversight evidence verify DIR``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from oversight.api.evidence_zip import package_zip
from oversight.api.schemas import ERRORS, THROTTLED
from oversight.api.security import Caller, check_password, need_governed
from oversight.domain.people import MAX_PASSWORD_CHARS
from oversight.services.limits import MAX_ID

router = APIRouter(tags=["footage"], responses=ERRORS)
Exporter = Annotated[Caller, Depends(need_governed("footage.export", "export", "grant:{grant_id}"))]
GrantId = Annotated[int, Path(ge=1, le=MAX_ID)]


class ExportBody(BaseModel):
    witness: str = Field(min_length=1, max_length=64, description="The witness's user id")
    witness_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    watermark: bool = Field(False, description="Burn request id and time into the clips")


@router.post(
    "/grants/{grant_id}/export",
    summary="Export a grant's footage as an evidence package (.zip), with a witness",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The package"},
        **THROTTLED,  # the witness's password goes through the login limiter
    },
)
async def export(
    grant_id: GrantId, body: ExportBody, caller: Exporter, request: Request
) -> Response:
    second = await check_password(request, body.witness.strip(), body.witness_password)
    return await run_in_threadpool(
        package_zip,
        caller.system,
        caller.person,
        second,
        grant_id=grant_id,
        watermark=body.watermark,
    )
