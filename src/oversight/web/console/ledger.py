"""The ledger: the verifier key inspectors check checkpoints with, the latest signed
checkpoint, the witnesses that cosign it (issue 20), recent checkpoints, and the
integrity check (``oversight verify``): its last recorded run and a button for admins
and auditors to run it now."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from oversight.api.security import Caller, need
from oversight.errors import PermissionDenied
from oversight.ledger import keys
from oversight.services import verify, witnessing
from oversight.web import i18n
from oversight.web.render import language, page

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
    try:  # the key and checkpoints are for anyone; the witnesses for the ledger's readers
        witnesses: witnessing.Overview | None = witnessing.overview(system, caller.person)
    except PermissionDenied:
        witnesses = None
    lang, now = language(request), system.clock.now()
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
        witnesses=witnesses,
        age=lambda moment: age(lang, now, moment),
    )


def age(lang: str, now: datetime, moment: datetime) -> str:
    """How long ago ``moment`` was, to the minute (to the second under one)."""
    seconds = max(int((now - moment).total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return i18n.translate(lang, "ledger.age_d", d=days, h=hours)
    if hours:
        return i18n.translate(lang, "ledger.age_h", h=hours, m=minutes)
    if minutes:
        return i18n.translate(lang, "ledger.age_min", m=minutes)
    return i18n.translate(lang, "ledger.age_s", s=secs)


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
