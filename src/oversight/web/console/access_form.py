"""The guided request form (issue 22, item 5): the organisation class chosen shows
exactly the documents that class needs under the rule packs in force; "last N minutes"
presets; camera and range prefilled from a link
(``/access/new?camera=ID&start=ISO&end=ISO``, e.g. from the timeline); every missing
document named at once, in words, on the form itself.

Works without JavaScript: choosing a class is a small GET form that reloads the page
with that class's documents, a preset is a link the server fills from its clock.
``static/access.js`` does both in place.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from oversight.api.schemas import ID_PATTERN
from oversight.api.security import Caller, need
from oversight.bootstrap import System
from oversight.domain import access as rules
from oversight.errors import InvalidInput, NotFound, RuleViolation
from oversight.services import access as svc
from oversight.services import access_review, registry
from oversight.services.documents import size_text
from oversight.web.forms import local_instant
from oversight.web.render import language, page

router = APIRouter(include_in_schema=False)
Anyone = Annotated[Caller, Depends(need())]
PRESETS_MINUTES = (15, 60, 240)  # the "last N minutes" shortcuts
MAX_PREFILL_CAMERAS = 100
_CAMERA = re.compile(ID_PATTERN)
_LOCAL = "%Y-%m-%dT%H:%M:%S"  # an <input type="datetime-local" step="1"> value


def _local(system: System, moment: datetime) -> str:
    return moment.astimezone(system.packs.timezone).strftime(_LOCAL)


def _guide(system: System, lang: str) -> list[dict[str, Any]]:
    """Each class with its documents in ``lang``: the form's guide, also as JSON for
    access.js."""
    return [
        {
            "class": org_class,
            "label": org_class.replace("_", " "),
            "documents": [
                {"kind": d.kind, "name": d.words(lang), "cite": d.cite, "title": d.en} for d in docs
            ],
        }
        for org_class, docs in access_review.form_classes(system)
    ]


def _form_page(
    request: Request,
    caller: Caller,
    *,
    org_class: str | None,
    values: dict[str, Any],
    status: int = 200,
    error: dict[str, Any] | None = None,
) -> Response:
    system = caller.system
    lang = language(request)
    guide = _guide(system, lang)
    chosen = next((g for g in guide if g["class"] == org_class), guide[0] if guide else None)
    carry = {k: v for k, v in (("start", values.get("start")), ("end", values.get("end"))) if v}
    cams = list(values.get("cameras", ()))
    presets = [
        (
            n,
            "/access/new?"
            + urlencode(
                [("last", n), ("org_class", chosen["class"] if chosen else "")]
                + [("camera", c) for c in cams]
            ),
        )
        for n in PRESETS_MINUTES
    ]
    offset = system.clock.now().astimezone(system.packs.timezone).utcoffset() or timedelta(0)
    return page(
        request,
        caller,
        "console/access_new.html",
        status=status,
        kinds=rules.KINDS,
        guide=guide,
        chosen=chosen,
        cameras=registry.requestable_cameras(system, caller.person),
        values=values,
        carry=carry,
        presets=presets,
        tz_offset_min=int(offset.total_seconds() // 60),
        form_error=error,
    )


@router.get("/access/new")
def new_page(
    request: Request,
    caller: Anyone,
    org_class: Annotated[str | None, Query(max_length=32)] = None,
    camera: Annotated[list[str] | None, Query(max_length=MAX_PREFILL_CAMERAS)] = None,
    start: Annotated[str | None, Query(max_length=40)] = None,
    end: Annotated[str | None, Query(max_length=40)] = None,
    last: Annotated[int | None, Query(ge=1, le=10080)] = None,
) -> Response:
    """The form, prefilled from ``?camera=ID&start=ISO&end=ISO`` (or ``?last=N`` minutes
    up to now); a malformed value is a one-line 400."""
    system = caller.system
    cams = [c.strip() for c in camera or [] if c.strip()]
    for cam in cams:
        if not _CAMERA.match(cam):
            raise InvalidInput(f"camera: {cam[:64]!r} is not a camera id")
    values: dict[str, Any] = {"cameras": cams}
    if last is not None:
        now = system.clock.now()
        values["start"] = _local(system, now - timedelta(minutes=last))
        values["end"] = _local(system, now)
    else:
        for name, raw in (("start", start), ("end", end)):
            if raw:
                values[name] = _local(system, local_instant(system, raw, name))
    return _form_page(request, caller, org_class=org_class, values=values)


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


def _error(exc: RuleViolation | InvalidInput | NotFound, lang: str) -> dict[str, Any]:
    """The refusal for the form: every missing document in ``lang``, else the message."""
    out: dict[str, Any] = {"error": exc.message, "rule": None, "article": None, "missing": []}
    if isinstance(exc, RuleViolation):
        out.update(rule=exc.rule, article=exc.article)
    if isinstance(exc, rules.MissingDocuments):
        out["missing"] = [(d.kind, d.words(lang), d.cite) for d in exc.missing]
    return out


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
    kinds = sorted({d["kind"] for g in _guide(system, "en") for d in g["documents"]})
    names = [c.strip() for value in cameras for c in value.split(",") if c.strip()]
    # Shown again on a refusal (never the files, never the identity-document number).
    values = {
        "kind": kind,
        "cameras": names,
        "start": start,
        "end": end,
        "requester_name": requester_name,
        "work_id": work_id,
        "organisation": organisation,
        "purpose": purpose,
        "destination": destination,
    }
    try:
        docs = await _documents(system, request, kinds)
        rec = await run_in_threadpool(
            lambda: svc.submit_request(
                system,
                caller.person,
                kind=kind,
                cameras=names,
                start=local_instant(system, start, "from"),
                end=local_instant(system, end, "to"),
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
    except (RuleViolation, InvalidInput, NotFound) as exc:
        error, status = _error(exc, language(request)), exc.http_status
        return await run_in_threadpool(
            lambda: _form_page(
                request, caller, org_class=org_class, values=values, status=status, error=error
            )
        )
    return RedirectResponse(f"/access/{rec.id}", status_code=303)
