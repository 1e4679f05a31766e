"""The ledger: the verifier key inspectors check checkpoints with, the latest signed
checkpoint, recent checkpoints, and the integrity check (``oversight verify``): its
last recorded run and a button for admins and auditors to run it now."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from oversight.api.security import Caller, need
from oversight.ledger import keys
from oversight.services import verify
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Caller, Depends(need())]
Verifier = Annotated[Caller, Depends(need("ledger.verify"))]
RECENT = 20
WINDOW = 1000  # leaves behind the latest checkpoint to look for the recent ones


@router.get("/ledger")
def ledger_page(request: Request, caller: Anyone) -> Response:
    system = caller.system
    with system.reads() as session:
        latest = system.ledger.latest_checkpoint(session)
        size = system.ledger.size(session)
        # A checkpoint may follow every append: read only the tail, not all of them.
        tail = system.ledger.checkpoints(session, since=latest.size - WINDOW) if latest else []
    recent = [(cp, base64.b64encode(cp.root).decode()) for cp in reversed(tail[-RECENT:])]
    return page(
        request,
        caller,
        "console/ledger.html",
        pubkey=keys.verifier_key(system.settings.keys_dir),
        origin=system.ledger.origin,
        size=size,
        latest=latest,
        recent=recent,
        run=verify.latest_run(system),
        may_verify=caller.person.has_role("admin", "auditor"),
    )


@router.post("/ledger/verify")
def run_verify(
    caller: Verifier, sample: Annotated[str, Form(max_length=9, pattern=r"^\d*$")] = ""
) -> Response:
    """Run the check now and record it; the page shows the outcome (a failed check is
    a finding to read, not a refused request)."""
    system = caller.system
    started = system.clock.now()
    report = verify.verify(system, sample=int(sample) if sample and int(sample) > 0 else None)
    verify.record_run(system, caller.person, report, started)
    return RedirectResponse("/ledger#verify", status_code=303)
