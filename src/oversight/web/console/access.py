"""The access workflow: requests with documents, decisions, grants, and their
execution by the custodian with a witness on the same screen (Arts. 16-17).

Every step is a call to ``services.access`` / ``services.export`` (which check and
record it); this module only turns forms into calls. The witness signs in with
``api.security.check_password`` (the login limiter); the open execution lives in ``web/witness.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from oversight.api.evidence_zip import package_zip
from oversight.api.security import Caller, check_password, may, need, need_governed
from oversight.domain.people import MAX_PASSWORD_CHARS
from oversight.errors import AuthenticationError
from oversight.services import access as svc
from oversight.services import access_review, exports, footage, people
from oversight.services.limits import MAX_ID
from oversight.web import witness
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Anyone = Annotated[Caller, Depends(need())]
Approver = Annotated[
    Caller, Depends(need_governed("access.decide", "approve", "request:{request_id}"))
]
Denier = Annotated[Caller, Depends(need_governed("access.decide", "deny", "request:{request_id}"))]
Revoker = Annotated[Caller, Depends(need_governed("access.revoke", "revoke", "grant:{grant_id}"))]
Executor = Annotated[Caller, Depends(need_governed("footage.view", "execute", "grant:{grant_id}"))]
Exporter = Annotated[Caller, Depends(need_governed("footage.export", "export", "grant:{grant_id}"))]


@router.get("/access")
def list_page(request: Request, caller: Anyone, status: str | None = None) -> Response:
    wanted = status if status in ("pending", "approved", "denied") else None
    recs = svc.list_requests(caller.system, caller.person, wanted)
    return page(
        request,
        caller,
        "console/access.html",
        requests=list(reversed(recs)),
        shown=wanted,
        sees_all=may(caller.person, "audit.read"),
    )


def _grant_exports(caller: Caller, grant_id: int | None) -> list[exports.ExportRec] | None:
    """The grant's past exports, for those who may read the history (issue 22, item 6)."""
    if grant_id is None or not may(caller.person, "audit.read"):
        return None
    return exports.list_exports(caller.system, caller.person, grant_id=grant_id)


def _detail(
    request: Request, caller: Caller, request_id: int, status: int = 200, **extra: object
) -> Response:
    system = caller.system
    rec = svc.get_request(system, caller.person, request_id)
    run = None
    if rec.grant is not None and may(caller.person, "footage.view"):
        run = witness.executions(request).get(
            caller.token, rec.grant.id, caller.person.id, system.clock.now()
        )
    now = system.clock.now()
    grant_usable = (
        rec.grant is not None and rec.grant.revoked_at is None and rec.grant.expires_at > now
    )
    return page(
        request,
        caller,
        "console/access_detail.html",
        status=status,
        rec=rec,
        grant=rec.grant,
        grant_usable=grant_usable,
        execution=run,
        exportable=rec.grant is not None and rec.grant.kind in ("copy", "retrieve"),
        custodian=may(caller.person, "footage.view"),
        # Approve and Deny only where the service would accept them (issue 22, item 5).
        decidable=access_review.may_decide(system, caller.person, request_id),
        documents=access_review.request_documents(system, caller.person, request_id),
        grant_exports=_grant_exports(caller, rec.grant.id if rec.grant is not None else None),
        **extra,
    )


@router.get("/access/{request_id:int}")
def detail_page(request: Request, caller: Anyone, request_id: Id) -> Response:
    return _detail(request, caller, request_id)


def _to_request(request_id: int) -> Response:
    return RedirectResponse(f"/access/{request_id}", status_code=303)


@router.post("/access/{request_id}/approve")
async def approve(
    caller: Approver,
    request_id: Id,
    note: Annotated[str, Form(max_length=2000)] = "",
    valid_days: Annotated[int, Form(ge=1, le=365)] = 7,
) -> Response:
    await run_in_threadpool(
        lambda: svc.approve(
            caller.system,
            caller.person,
            request_id,
            note=note,
            valid_for=timedelta(days=valid_days),
        )
    )
    return _to_request(request_id)


@router.post("/access/{request_id}/deny")
async def deny(
    caller: Denier, request_id: Id, reason: Annotated[str, Form(max_length=2000)]
) -> Response:
    await run_in_threadpool(
        lambda: svc.deny(caller.system, caller.person, request_id, reason=reason)
    )
    return _to_request(request_id)


@router.post("/grants/{grant_id}/revoke")
async def revoke(
    request: Request,
    caller: Revoker,
    grant_id: Id,
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    grant = await run_in_threadpool(
        lambda: svc.revoke(caller.system, caller.person, grant_id, reason=reason)
    )
    witness.executions(request).close(caller.token, grant_id)
    return _to_request(grant.request_id)


@router.post("/grants/{grant_id}/witness")
async def open_execution(
    request: Request,
    caller: Executor,
    grant_id: Id,
    witness_id: Annotated[str, Form(alias="witness", max_length=64)],
    witness_password: Annotated[str, Form(max_length=MAX_PASSWORD_CHARS)],
) -> Response:
    system = caller.system
    _, rec = await run_in_threadpool(svc.get_grant, system, caller.person, grant_id)
    try:
        # The one limiter of password checks (finding 6): throttled like a login.
        second = await check_password(request, witness_id.strip(), witness_password)
    except AuthenticationError as exc:
        # Shown on the same page: a 401 would send the custodian to the login page.
        message = exc.message
        return await run_in_threadpool(
            lambda: _detail(request, caller, rec.id, 401, witness_error=message)
        )
    await run_in_threadpool(
        lambda: footage.check_execution(system, caller.person, second, grant_id=grant_id)
    )
    witness.executions(request).open(
        caller.token, grant_id, caller.person.id, second.id, system.clock.now()
    )
    return RedirectResponse(f"/access/{rec.id}#execution", status_code=303)


@router.post("/grants/{grant_id}/witness/close")
async def close_execution(request: Request, caller: Executor, grant_id: Id) -> Response:
    grant, _ = await run_in_threadpool(svc.get_grant, caller.system, caller.person, grant_id)
    witness.executions(request).close(caller.token, grant_id)
    return _to_request(grant.request_id)


@router.post("/grants/{grant_id}/export")
async def export(
    request: Request,
    caller: Exporter,
    grant_id: Id,
    watermark: Annotated[bool, Form()] = False,
) -> Response:
    system = caller.system
    run = witness.require(request, caller.token, grant_id, caller.person.id, system.clock.now())
    second = await run_in_threadpool(people.person_by_id, system, run.witness)
    return await run_in_threadpool(
        lambda: package_zip(system, caller.person, second, grant_id=grant_id, watermark=watermark)
    )
