"""Exports in the console (issue 22, item 6): the history of evidence packages, and an
export run in the background so the grant's page shows its progress.

``GET /exports`` lists past exports (``audit.read``: custodians, auditors, admins; each
row in the reader's site scope). ``POST /grants/{id}/export/start`` starts the export
of an executed grant (the same checks as the plain form ``POST /grants/{id}/export``,
which stays for browsers without scripts) and answers 202 with the job; the page polls
``GET /exports/jobs/{job}`` and downloads ``/exports/jobs/{job}/download`` when done
(``web/export_jobs.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from oversight.api.evidence_zip import make_zip, zip_response
from oversight.api.security import Caller, need, need_governed
from oversight.services import access as access_svc
from oversight.services import exports, people
from oversight.services.limits import MAX_ID
from oversight.web import export_jobs, witness
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Reader = Annotated[Caller, Depends(need("audit.read"))]
Exporter = Annotated[Caller, Depends(need_governed("footage.export", "export", "grant:{grant_id}"))]
Custodian = Annotated[Caller, Depends(need("footage.export"))]


@router.get("/exports")
def exports_page(request: Request, caller: Reader) -> Response:
    recs = exports.list_exports(caller.system, caller.person)
    return page(request, caller, "console/exports.html", exports=recs)


@router.post("/grants/{grant_id}/export/start")
async def start(
    request: Request,
    caller: Exporter,
    grant_id: Id,
    watermark: Annotated[bool, Form()] = False,
) -> Response:
    system = caller.system
    run = witness.require(request, caller.token, grant_id, caller.person.id, system.clock.now())
    second = await run_in_threadpool(people.person_by_id, system, run.witness)
    # The grant's own checks (exists, in scope, readable) before a thread starts.
    await run_in_threadpool(access_svc.get_grant, system, caller.person, grant_id)
    custodian = caller.person
    try:
        job = export_jobs.jobs(request).start(
            caller.token,
            grant_id,
            lambda progress: make_zip(
                system,
                custodian,
                second,
                grant_id=grant_id,
                watermark=watermark,
                progress=progress,
            ),
        )
    except export_jobs.Busy as exc:
        return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "30"})
    return JSONResponse(
        {
            **job.status(),
            "status_url": f"/exports/jobs/{job.id}",
            "download_url": f"/exports/jobs/{job.id}/download",
        },
        status_code=202,
    )


@router.get("/exports/jobs/{job_id}")
def job_status(request: Request, caller: Custodian, job_id: JobId) -> Response:
    job = export_jobs.jobs(request).get(caller.token, job_id)
    return JSONResponse(job.status(), headers={"Cache-Control": "no-store"})


@router.get("/exports/jobs/{job_id}/download")
def download(request: Request, caller: Custodian, job_id: JobId) -> Response:
    tmp, archive = export_jobs.jobs(request).take(caller.token, job_id)
    return zip_response(tmp, archive)
