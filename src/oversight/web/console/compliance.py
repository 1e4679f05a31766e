"""Compliance: the findings over the whole registry (article, deadline, penalty), as of
today or a past day, and the printable report."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from oversight.api.security import Caller, need
from oversight.rules.schema import Severity
from oversight.services import compliance, reports
from oversight.web.console.filing import printable
from oversight.web.forms import optional_date
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need("compliance.read"))]
DayParam = Annotated[str, Query(alias="at", max_length=10)]
SEVERITIES: tuple[Severity, ...] = ("critical", "major", "minor", "info")


@router.get("/compliance")
def compliance_page(request: Request, caller: Reader, at: DayParam = "") -> Response:
    day = optional_date(at, "as of")
    report = compliance.report(caller.system, day)
    counts = Counter(f.severity for f in report.findings)
    return page(
        request,
        caller,
        "console/compliance.html",
        report=report,
        counts=[(s, counts[s]) for s in SEVERITIES],
        asked=day,
        penalty=reports._penalty,
    )


@router.get("/compliance/report")
def printable_report(caller: Reader, at: DayParam = "") -> HTMLResponse:
    report = compliance.report(caller.system, optional_date(at, "as of"))
    return printable(reports.compliance_html(report))
