"""The audit register (Art. 14(3)): every recording, viewing, copy and retrieval, with
filters (camera, person, a range of local dates) and the same selection as CSV."""

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
from oversight.services import audit
from oversight.services.csv_cells import spreadsheet_cell
from oversight.services.limits import MAX_LEAF
from oversight.web.forms import day_range, optional_date, text
from oversight.web.render import local_time, page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need("audit.read"))]
Param = Annotated[str, Query(max_length=64)]
DayParam = Annotated[str, Query(alias="from", max_length=10)]
SHOWN = 500  # entries on a page, newest first; the CSV has them all
COLUMNS = ("leaf", "at", "action", "actors", "cameras", "target", "purpose", "destination", "grant")


@dataclass(frozen=True)
class Filters:
    camera: str | None
    person: str | None
    start: date | None
    end: date | None

    def query(self) -> str:
        """The filters as a query string (for the CSV link)."""
        pairs = {
            "camera": self.camera,
            "person": self.person,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }
        return urlencode({k: v for k, v in pairs.items() if v})


def _filters(camera: str, person: str, start: str, end: str) -> Filters:
    return Filters(
        text(camera), text(person), optional_date(start, "from"), optional_date(end, "to")
    )


def _entries(system: System, person: Person, f: Filters) -> list[audit.Entry]:
    start, end = day_range(system, f.start, f.end)
    return audit.log(system, person, camera=f.camera, person=f.person, start=start, end=end)


@router.get("/audit")
def audit_page(
    request: Request,
    caller: Reader,
    camera: Param = "",
    person: Param = "",
    start: DayParam = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    before: Annotated[int | None, Query(ge=0, le=MAX_LEAF)] = None,
) -> Response:
    f = _filters(camera, person, start, end)
    first, last = day_range(caller.system, f.start, f.end)
    # One page, newest first: the newest page costs the same whatever the ledger's length.
    found = audit.page(
        caller.system,
        caller.person,
        limit=SHOWN,
        before=before,
        camera=f.camera,
        person=f.person,
        start=first,
        end=last,
    )
    older = None
    if found.older is not None:
        query = f.query()
        older = f"/audit?{query + '&' if query else ''}before={found.older}"
    return page(
        request,
        caller,
        "console/audit.html",
        filters=f,
        total=len(found.entries),
        entries=list(reversed(found.entries)),
        paged=before is not None or older is not None,
        older=older,
        newest=f"/audit?{f.query()}" if before is not None else None,
    )


@router.get("/audit.csv")
def audit_csv(
    caller: Reader,
    camera: Param = "",
    person: Param = "",
    start: DayParam = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    system = caller.system
    f = _filters(camera, person, start, end)
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
        ]
        writer.writerow([spreadsheet_cell(v) for v in row])
    stamp = local_time(system, system.clock.now(), seconds=False)[:10].replace("-", "")
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM: spreadsheet programs then read UTF-8 (Chinese)
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
