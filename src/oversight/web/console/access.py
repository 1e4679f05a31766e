"""The access workflow: requests with documents, decisions, grants, and their
execution by the custodian with a witness on the same screen (Arts. 16-17).

Every step is a call to ``services.access`` / ``services.export`` (which check and
record it); this module only turns forms into calls. The witness signs in with
``api.security.check_password`` (the login limiter); the open execution lives in ``web/witness.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from oversight.api.evidence_zip import package_zip
from oversight.api.security import Caller, check_password, may, need, need_governed
from oversight.bootstrap import System
from oversight.clock import instant_in_range
from oversight.domain import access as rules
from oversight.domain.people import MAX_PASSWORD_CHARS
from oversight.errors import AuthenticationError, InvalidInput
from oversight.rules.schema import AccessApprovalRule
from oversight.services import access as svc
from oversight.services import exports, footage, people, registry
from oversight.services.documents import size_text
from oversight.services.limits import MAX_ID
from oversight.web import witness
from oversight.web.render import language, page

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


def document_kinds(system: System, lang: str) -> list[tuple[str, str]]:
    """(kind, label) of every document or approval a pack in force may require."""
    today = system.packs.local_date(system.clock.now())
    found: dict[str, str] = {}
    for pack, rule in system.packs.rules(AccessApprovalRule, today):
        for entry in rule.params.matrix.values():
            for kind in [*entry.documents, *entry.approvals]:
                doc = pack.documents.get(kind)
                label = getattr(doc.name, lang) if doc is not None else kind.replace("_", " ")
                found.setdefault(kind, label)
    return sorted(found.items())


def _instant(system: System, value: str, what: str) -> datetime:
    """A form's date-time: ISO with a zone, or a local time (the site's zone)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{what}: {value!r} is not a date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=system.packs.timezone)
    return instant_in_range(parsed, what)


async def _documents(system: System, request: Request, kinds: list[str]) -> dict[str, bytes]:
    """Uploaded files named ``doc_<kind>``; empty file inputs are ignored. Bounded by the
    settings the service applies to every interface (document_max_bytes, _count)."""
    most, limit = system.settings.document_max_count, system.settings.document_max_bytes
    form = await request.form()
    out: dict[str, bytes] = {}
    for kind in kinds:
        value = form.get(f"doc_{kind}")
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        data = await value.read(limit + 1)
        if len(data) > limit:
            raise InvalidInput(
                f"document {kind!r} is larger than {size_text(limit)} (document_max_bytes)"
            )
        if data:
            out[kind] = data
    if len(out) > most:
        raise InvalidInput(
            f"{len(out)} documents attached: at most {most} per request (document_max_count)"
        )
    return out


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


@router.get("/access/new")
def new_page(request: Request, caller: Anyone) -> Response:
    system = caller.system
    return page(
        request,
        caller,
        "console/access_new.html",
        kinds=rules.KINDS,
        org_classes=rules.ORG_CLASSES,
        cameras=registry.requestable_cameras(system, caller.person),
        documents=document_kinds(system, language(request)),
    )


@router.post("/access/new")
async def submit(
    request: Request,
    caller: Anyone,
    kind: Annotated[str, Form(max_length=16)],
    cameras: Annotated[list[str], Form()],
    start: Annotated[str, Form(max_length=40)],
    end: Annotated[str, Form(max_length=40)],
    requester_name: Annotated[str, Form(max_length=200)],
    work_id: Annotated[str, Form(max_length=64)],
    id_doc: Annotated[str, Form(max_length=64)],
    organisation: Annotated[str, Form(max_length=200)],
    org_class: Annotated[str, Form(max_length=32)],
    purpose: Annotated[str, Form(max_length=2000)],
    destination: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    system = caller.system
    kinds = [k for k, _ in document_kinds(system, "en")]
    docs = await _documents(system, request, kinds)
    names = [c.strip() for value in cameras for c in value.split(",") if c.strip()]
    rec = await run_in_threadpool(
        lambda: svc.submit_request(
            system,
            caller.person,
            kind=kind,
            cameras=names,
            start=_instant(system, start, "from"),
            end=_instant(system, end, "to"),
            requester_name=requester_name,
            work_id=work_id,
            id_doc=id_doc,
            organisation=organisation,
            org_class=org_class,
            purpose=purpose,
            destination=destination,
            documents=docs,
        )
    )
    return RedirectResponse(f"/access/{rec.id}", status_code=303)


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
        grant_exports=_grant_exports(caller, rec.grant.id if rec.grant is not None else None),
        **extra,
    )


@router.get("/access/{request_id}")
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
