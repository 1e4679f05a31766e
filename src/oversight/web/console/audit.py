"""The audit register (Art. 14(3)): every recording, viewing, copy and retrieval, with
filters (action, camera, person, request, a range of local dates) and the same selection
as CSV. The page folds a camera-hour of seals and a playback session into one line each
(services/register.py); ``fold=0`` shows every leaf."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from oversight.api.security import Caller, need
from oversight.bootstrap import System
from oversight.domain.people import Person
from oversight.services import audit, register
from oversight.services.csv_cells import spreadsheet_cell
from oversight.services.limits import MAX_LEAF
from oversight.web.forms import day_range, optional_date, size_text, text
from oversight.web.render import local_time, page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need("audit.read"))]
Param = Annotated[str, Query(max_length=64)]
ActionParam = Annotated[str, Query(max_length=audit.MAX_ACTION)]
RequestParam = Annotated[str, Query(max_length=10)]
FoldParam = Annotated[int, Query(ge=0, le=1)]
DayParam = Annotated[str, Query(alias="from", max_length=10)]
SHOWN = 500  # lines on a page, newest first; the CSV has every entry
COLUMNS: tuple[str, ...] = ("leaf", "at", "action", "actors", "cameras", "target", "purpose")
COLUMNS += ("destination", "grant", "request")


@dataclass(frozen=True)
class Filters:
    camera: str | None
    person: str | None
    start: date | None
    end: date | None
    action: str | None = None
    request: int | None = None
    fold: bool = True

    def query(self) -> str:
        """The filters as a query string (for the CSV link and the pages' links)."""
        pairs = {
            "camera": self.camera,
            "person": self.person,
            "action": self.action,
            "request": str(self.request) if self.request else None,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "fold": None if self.fold else "0",
        }
        return urlencode({k: v for k, v in pairs.items() if v})

    def link(self, before: int | None = None) -> str:
        """This page of the register with these filters (``before``: an older page)."""
        pairs = self.query() + (f"&before={before}" if before is not None else "")
        return f"/audit?{pairs.lstrip('&')}" if pairs else "/audit"


def _filters(
    camera: str,
    person: str,
    start: str,
    end: str,
    action: str = "",
    request: str = "",
    fold: int = 1,
) -> Filters:
    return Filters(
        text(camera),
        text(person),
        optional_date(start, "from"),
        optional_date(end, "to"),
        audit.check_action(text(action)),
        audit.check_request(text(request)),
        bool(fold),
    )


def _entries(system: System, person: Person, f: Filters) -> list[audit.Entry]:
    start, end = day_range(system, f.start, f.end)
    return audit.log(
        system,
        person,
        camera=f.camera,
        person=f.person,
        start=start,
        end=end,
        action=f.action,
        request=f.request,
    )


@router.get("/audit")
def audit_page(
    request: Request,
    caller: Reader,
    camera: Param = "",
    person: Param = "",
    start: DayParam = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    action: ActionParam = "",
    request_id: Annotated[str, Query(alias="request", max_length=10)] = "",
    fold: FoldParam = 1,
    before: Annotated[int | None, Query(ge=0, le=MAX_LEAF)] = None,
) -> Response:
    f = _filters(camera, person, start, end, action, request_id, fold)
    first, last = day_range(caller.system, f.start, f.end)
    query = audit.Query(f.camera, f.person, first, last, f.action, f.request)
    # One page, newest first, read a chunk at a time: it costs the same whatever the
    # ledger's length (bounded by OVERSIGHT_REGISTER_SCAN_LEAVES).
    found = register.page(
        caller.system, caller.person, query, limit=SHOWN, before=before, fold=f.fold
    )
    return page(
        request,
        caller,
        "console/audit.html",
        filters=f,
        actions=audit.FAMILIES,
        total=len(found.rows),
        rows=found.rows,
        paged=before is not None or found.older is not None,
        older=f.link(found.older) if found.older is not None else None,
        newest=f.link() if before is not None else None,
        size=size_text,
        read=found.read,
    )


@router.get("/audit.csv")
def audit_csv(
    caller: Reader,
    camera: Param = "",
    person: Param = "",
    start: DayParam = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    action: ActionParam = "",
    request_id: Annotated[str, Query(alias="request", max_length=10)] = "",
) -> Response:
    system = caller.system
    f = _filters(camera, person, start, end, action, request_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for e in _entries(system, caller.person, f):
        row = [
            str(e.leaf_index),
            e.at.astimezone(system.packs.timezone).isoformat(),
            e.action,
            ";".join(e.actors),
            ";".join(e.cameras),
            e.target,
            e.purpose,
            e.destination,
            e.grant,
            e.request,
        ]
        writer.writerow([spreadsheet_cell(v) for v in row])
    stamp = local_time(system, system.clock.now(), seconds=False)[:10].replace("-", "")
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM: spreadsheet programs then read UTF-8 (Chinese)
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
