"""``/api/v1`` filing (备案) with the police and the compliance report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from oversight.api.schemas import ERRORS, ID_PATTERN, ComplianceOut, Day, non_json
from oversight.api.security import Caller, need
from oversight.domain.model import FilingRec
from oversight.services import compliance, filing_form
from oversight.services import registry as svc

router = APIRouter(tags=["filing"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need("registry.read"))]
Registrar = Annotated[Caller, Depends(need("registry.write"))]


class Obligation(BaseModel):
    camera: str
    site: str
    kind: str
    event_date: date
    due: date
    status: Literal["filed", "filed_late", "due", "overdue"]
    days_left: int
    filed_on: date | None
    rule: str
    article: str
    pack: str


class DueFilings(BaseModel):
    at: date
    filings: list[Obligation]


class NewFiling(BaseModel):
    camera_id: Annotated[str, Field(pattern=ID_PATTERN)]
    kind: Literal["commissioning", "removal"]
    filed_on: Day
    receipt: Annotated[str, Field(min_length=1, max_length=200)]
    police_office: Annotated[str, Field(max_length=200)] | None = None


@router.get("/filings/due", response_model=DueFilings, summary="Filings owed, earliest due first")
def due(
    caller: Reader,
    at: Annotated[Day | None, Query(description="As of this day (default: today)")] = None,
    include_filed: bool = False,
) -> DueFilings:
    when, found = compliance.due_filings(caller.system, at, include_filed=include_filed)
    return DueFilings(
        at=when,
        filings=[
            Obligation(
                camera=o.camera_id,
                site=o.site_id,
                kind=o.kind,
                event_date=o.event_date,
                due=o.deadline.due,
                status=o.status,
                days_left=(o.deadline.due - when).days,
                filed_on=o.filed_on,
                rule=o.deadline.cited.rule_id,
                article=o.deadline.cited.article,
                pack=o.deadline.cited.pack_id,
            )
            for o in found
        ],
    )


@router.post(
    "/filings",
    response_model=FilingRec,
    status_code=201,
    summary="Record a filing with the police and its receipt",
)
def record(body: NewFiling, caller: Registrar) -> FilingRec:
    return svc.record_filing(
        caller.system,
        caller.person,
        camera_id=body.camera_id,
        kind=body.kind,
        filed_on=body.filed_on,
        receipt=body.receipt,
        police_office=body.police_office,
    )


@router.get(
    "/cameras/{camera_id}/filing-form",
    response_class=HTMLResponse,
    summary="The printable filing form of the camera's site (HTML)",
    responses=non_json("text/html"),
)
def form(camera_id: str, caller: Reader) -> HTMLResponse:
    rec, _, _ = svc.get_camera(caller.system, caller.person, camera_id)
    return HTMLResponse(filing_form.render(caller.system, caller.person, rec.site_id))


@router.get(
    "/compliance",
    response_model=ComplianceOut,
    summary="Compliance findings with article, deadline and penalty",
)
def report(
    caller: Reader,
    day: Annotated[Day | None, Query(description="As of this day (default: today)")] = None,
) -> dict[str, object]:
    return compliance.report(caller.system, day).to_json()
