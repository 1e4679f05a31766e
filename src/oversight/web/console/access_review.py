"""The custodian's side of requests (issue 22, item 5): the inbox of pending requests
they may decide, and the audited route that opens a request's documents. Both only
translate calls to ``services.access_review`` and ``services.access_documents``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from oversight.api.documents import KIND_PATTERN, document_response
from oversight.api.security import Caller, need
from oversight.services import access_documents, access_review
from oversight.services.limits import MAX_ID
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Caller, Depends(need())]
Decider = Annotated[Caller, Depends(need("access.decide"))]


def age_text(seconds: float) -> tuple[str, int]:
    """(locale key, number) for how long a request has waited."""
    minutes = int(seconds // 60)
    if minutes < 120:
        return "access.minutes", minutes
    if minutes < 48 * 60:
        return "access.hours", minutes // 60
    return "access.days", minutes // (24 * 60)


@router.get("/access/inbox")
def inbox_page(
    request: Request, caller: Decider, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
) -> Response:
    items = access_review.inbox(caller.system, caller.person, after=after)
    full = len(items) == access_review.INBOX_PAGE
    return page(
        request,
        caller,
        "console/access_inbox.html",
        items=items,
        ages={i.id: age_text(i.age.total_seconds()) for i in items},
        next_after=items[-1].id if full else None,
    )


@router.get("/access/{request_id:int}/documents/{kind}")
async def open_document(
    caller: Anyone,
    request_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    kind: Annotated[str, Path(pattern=KIND_PATTERN)],
) -> Response:
    opened = await run_in_threadpool(
        access_documents.open_document, caller.system, caller.person, request_id, kind
    )
    return document_response(opened)
