"""``/api/v1/audit``: the register of every recording, viewing, copy and retrieval
(Art. 14(3)), as JSON or as a CSV download."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from oversight.api.schemas import ERRORS, Instant, aware, non_json
from oversight.api.security import Caller, need
from oversight.services import audit as svc
from oversight.services.csv_cells import spreadsheet_cell
from oversight.services.limits import MAX_LEAF

router = APIRouter(tags=["audit"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need("audit.read"))]
CameraQuery = Annotated[str | None, Query(max_length=64, description="Only this camera")]
PersonQuery = Annotated[str | None, Query(max_length=64, description="Only this user id")]
ActionQuery = Annotated[
    str | None,
    Query(
        max_length=svc.MAX_ACTION,
        description="Only this action or family of actions: " + ", ".join(svc.FAMILIES),
    ),
]
RequestQuery = Annotated[
    int | None, Query(ge=1, le=svc.MAX_REQUEST, description="Only entries of this request")
]
From = Annotated[Instant | None, Query(alias="from", description="ISO 8601 with time zone")]
To = Annotated[Instant | None, Query(alias="to", description="ISO 8601 with time zone")]
COLUMNS: tuple[str, ...] = ("leaf_index", "at", "action", "actors", "cameras", "target")
COLUMNS += ("purpose", "destination", "grant", "request")


class EntryOut(BaseModel):
    leaf_index: int
    at: datetime
    action: str
    actors: list[str]
    cameras: list[str]
    target: str
    purpose: str
    destination: str
    grant: str
    details: dict[str, Any]
    request: str  # the access request it belongs to ("": none)


def _entries(
    caller: Caller,
    camera: str | None,
    person: str | None,
    start: datetime | None,
    end: datetime | None,
    action: str | None = None,
    request: int | None = None,
) -> list[dict[str, Any]]:
    found = svc.log(
        caller.system,
        caller.person,
        camera=camera,
        person=person,
        start=aware(start, "from"),
        end=aware(end, "to"),
        action=action,
        request=request,
    )
    return [e.to_json() for e in found]


Limit = Annotated[
    int | None,
    Query(ge=1, le=svc.MAX_PAGE, description="Only the newest this many matching entries"),
]
Before = Annotated[
    int | None,
    Query(ge=0, le=MAX_LEAF, description="Only entries below this leaf index (an older page)"),
]


@router.get("/audit", response_model=list[EntryOut], summary="The audit register, oldest first")
def log(
    caller: Reader,
    response: Response,
    camera: CameraQuery = None,
    person: PersonQuery = None,
    start: From = None,
    end: To = None,
    limit: Limit = None,
    before: Before = None,
    action: ActionQuery = None,
    request: RequestQuery = None,
) -> list[dict[str, Any]]:
    """Without ``limit``, every matching entry. With it, one page: the newest ``limit``
    entries below ``before``, oldest first; while older ones exist, the response's
    ``X-Older-Before`` header is the ``before`` of the next older page."""
    if limit is None and before is None:
        return _entries(caller, camera, person, start, end, action, request)
    found = svc.page(
        caller.system,
        caller.person,
        limit=limit or svc.MAX_PAGE,
        before=before,
        camera=camera,
        person=person,
        start=aware(start, "from"),
        end=aware(end, "to"),
        action=action,
        request=request,
    )
    if found.older is not None:
        response.headers["X-Older-Before"] = str(found.older)
    return [e.to_json() for e in found.entries]


@router.get(
    "/audit.csv",
    response_class=Response,
    summary="The audit register as a CSV download (header row first)",
    responses=non_json("text/csv"),
)
def log_csv(
    caller: Reader,
    camera: CameraQuery = None,
    person: PersonQuery = None,
    start: From = None,
    end: To = None,
    action: ActionQuery = None,
    request: RequestQuery = None,
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, "details"])
    for row in _entries(caller, camera, person, start, end, action, request):
        details = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
        writer.writerow([*(spreadsheet_cell(row[c]) for c in COLUMNS), spreadsheet_cell(details)])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
