"""``/api/v1`` access to footage: requests (with their documents), decisions, grants.

Who may do what follows ``cli/access.py``: staff and requesters submit (the policy's
``access.request``); custodians and admins decide and revoke; they and auditors read.
The services check the rules (the documents a pack requires and their bounds, a range
of recorded footage only, a grant's lifetime, a decider who is not the requester) and
log refusals.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from oversight.api.documents import KIND_PATTERN, document_response
from oversight.api.schemas import ERRORS, ID_PATTERN, Instant, required_aware
from oversight.api.security import Caller, need, need_governed
from oversight.errors import InvalidInput
from oversight.services import access as svc
from oversight.services import access_documents, access_review
from oversight.services.access import GrantRec, RequestRec
from oversight.services.documents import size_text
from oversight.services.limits import MAX_ID

router = APIRouter(tags=["access"], responses=ERRORS)
Requester = Annotated[Caller, Depends(need_governed("access.request", "request", "request:new"))]
Reader = Annotated[Caller, Depends(need())]
Approver = Annotated[
    Caller, Depends(need_governed("access.decide", "approve", "request:{request_id}"))
]
Decider = Annotated[Caller, Depends(need("access.decide"))]
Denier = Annotated[Caller, Depends(need_governed("access.decide", "deny", "request:{request_id}"))]
Revoker = Annotated[Caller, Depends(need_governed("access.revoke", "revoke", "grant:{grant_id}"))]
RequestId = Annotated[int, Path(ge=1, le=MAX_ID)]
Line = Annotated[str, Field(min_length=1, max_length=2000)]
# A scanned letter or ID card, base64; the service bounds the decoded size and count
# (settings document_max_bytes, document_max_count). This bound only stops absurd input.
Document = Annotated[str, Field(max_length=28_000_000, description="File content, base64")]


class NewRequest(BaseModel):
    kind: Literal["view", "copy", "retrieve"]
    cameras: Annotated[
        list[Annotated[str, Field(pattern=ID_PATTERN)]], Field(min_length=1, max_length=100)
    ]
    start: Instant = Field(description="ISO 8601 with time zone")
    end: Instant = Field(description="ISO 8601 with time zone")
    requester_name: Line
    work_id: Line
    id_doc: Annotated[str, Field(min_length=1, max_length=64)]
    organisation: Line
    org_class: Literal["police", "state_security", "emergency_response", "other_unit", "individual"]
    purpose: Line
    destination: Annotated[str, Field(max_length=2000)] = ""
    documents: Annotated[
        dict[Annotated[str, Field(max_length=64)], Document], Field(max_length=20)
    ] = Field(default_factory=dict, description="Document kind -> base64 content")


class Approval(BaseModel):
    note: Annotated[str, Field(max_length=2000)] = ""
    valid_days: Annotated[
        int,
        Field(
            ge=1,
            le=3650,
            description="Days the grant stays valid: at most the rule packs' access_bounds "
            "max_grant_days (30 in the shipped packs); more is refused with the rule.",
        ),
    ] = 7


class Reason(BaseModel):
    reason: Line


class GrantOut(BaseModel):
    grant: GrantRec
    request: RequestRec


def _decode(documents: dict[str, str], limit: int) -> dict[str, bytes]:
    out = {}
    for kind, text in documents.items():
        if len(text) // 4 * 3 > limit + 2:  # larger once decoded: refused undecoded
            raise InvalidInput(
                f"document {kind!r} is larger than {size_text(limit)} (document_max_bytes)"
            )
        try:
            out[kind] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"document {kind!r} is not valid base64") from None
        if not out[kind]:
            raise InvalidInput(f"document {kind!r} is empty")
    return out


@router.post(
    "/access/requests",
    response_model=RequestRec,
    status_code=201,
    summary="Request access to footage (documents as base64); refused with the article "
    "when a required document is missing",
)
def submit(body: NewRequest, caller: Requester) -> RequestRec:
    docs = _decode(body.documents, caller.system.settings.document_max_bytes)
    return svc.submit_request(
        caller.system,
        caller.person,
        kind=body.kind,
        cameras=body.cameras,
        start=required_aware(body.start, "start"),
        end=required_aware(body.end, "end"),
        requester_name=body.requester_name,
        work_id=body.work_id,
        id_doc=body.id_doc,
        organisation=body.organisation,
        org_class=body.org_class,
        purpose=body.purpose,
        destination=body.destination,
        documents=docs,
    )


@router.get("/access/requests", response_model=list[RequestRec], summary="List access requests")
def list_requests(
    caller: Reader,
    status: Annotated[Literal["pending", "approved", "denied"] | None, Query()] = None,
) -> list[RequestRec]:
    return svc.list_requests(caller.system, caller.person, status)


@router.get(
    "/access/inbox",
    summary="The pending requests the caller may decide, in their scope, oldest first "
    f"(at most {access_review.INBOX_PAGE}; the next page: after=<last id>)",
)
def inbox(
    caller: Decider, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
) -> list[dict[str, Any]]:
    return [
        item.to_json() for item in access_review.inbox(caller.system, caller.person, after=after)
    ]


@router.get(
    "/access/requests/{request_id}/documents/{kind}",
    summary="Download one attached document (access.documents; written to the register "
    "as document.open before it is sent)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def open_document(
    request_id: RequestId,
    kind: Annotated[str, Path(pattern=KIND_PATTERN)],
    caller: Reader,
) -> Response:
    opened = access_documents.open_document(caller.system, caller.person, request_id, kind)
    return document_response(opened)


@router.get(
    "/access/requests/{request_id}", response_model=RequestRec, summary="One access request"
)
def show(request_id: RequestId, caller: Reader) -> RequestRec:
    return svc.get_request(caller.system, caller.person, request_id)


@router.post(
    "/access/requests/{request_id}/approve",
    response_model=GrantRec,
    summary="Approve a pending request: a grant with its scope (not by the requester)",
)
def approve(request_id: RequestId, body: Approval, caller: Approver) -> GrantRec:
    return svc.approve(
        caller.system,
        caller.person,
        request_id,
        note=body.note,
        valid_for=timedelta(days=body.valid_days),
    )


@router.post(
    "/access/requests/{request_id}/deny",
    response_model=RequestRec,
    summary="Deny a pending request with a reason",
)
def deny(request_id: RequestId, body: Reason, caller: Denier) -> RequestRec:
    return svc.deny(caller.system, caller.person, request_id, reason=body.reason)


@router.get("/grants/{grant_id}", response_model=GrantOut, summary="One grant and its request")
def grant(grant_id: RequestId, caller: Reader) -> GrantOut:
    found, request = svc.get_grant(caller.system, caller.person, grant_id)
    return GrantOut(grant=found, request=request)


@router.post(
    "/grants/{grant_id}/revoke",
    response_model=GrantRec,
    summary="Revoke a grant: it can no longer be used",
)
def revoke(grant_id: RequestId, body: Reason, caller: Revoker) -> GrantRec:
    return svc.revoke(caller.system, caller.person, grant_id, reason=body.reason)
