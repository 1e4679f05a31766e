"""Registry: organisations, sites and cameras, with the forms that add them, remove a
camera, and report and resolve obstructions. Staff read; registrars change. A camera
the rule packs forbid (e.g. inside a public toilet) is refused by the service with its
article, shown on the error page, and nothing is written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from oversight.api.security import Caller, may, need
from oversight.bootstrap import System
from oversight.domain.model import OBSTRUCTION_CAUSES, ORG_KINDS
from oversight.redaction import redact_url
from oversight.services import registry
from oversight.web.forms import a_date, optional_date, text, today
from oversight.web.render import language, page

router = APIRouter(include_in_schema=False)
Reader = Annotated[Caller, Depends(need("registry.read"))]
Registrar = Annotated[Caller, Depends(need("registry.write"))]
Id = Annotated[str, Form(max_length=64)]
Short = Annotated[str, Form(max_length=200)]
Long = Annotated[str, Form(max_length=2000)]
Day = Annotated[str, Form(max_length=10)]
CameraId = Annotated[str, Path(max_length=64)]
RowId = Annotated[int, Path(ge=1, le=2**62)]


def vocabularies(system: System, lang: str) -> dict[str, dict[str, str]]:
    """Site categories, placements and coverage points of the packs, named in ``lang``
    (the first pack that defines an id names it); prohibited placements carry their
    article so the operator sees why before trying."""
    out: dict[str, dict[str, str]] = {"categories": {}, "placements": {}, "points": {}}
    for pack in system.packs.packs:
        for key, cat in pack.site_categories.items():
            out["categories"].setdefault(key, getattr(cat.name, lang))
        for key, pl in pack.placements.items():
            name = getattr(pl.name, lang)
            out["placements"].setdefault(key, f"{name} ⚠ {pl.cite}" if pl.prohibited else name)
        for key, point in pack.coverage_points.items():
            out["points"].setdefault(key, getattr(point.name, lang))
    return out


def _back(anchor: str = "") -> Response:
    return RedirectResponse(f"/registry{anchor}", status_code=303)


@router.get("/registry")
def registry_page(request: Request, caller: Reader) -> Response:
    system = caller.system
    cameras = [(cam, redact_url(url)) for cam, url in registry.list_cameras(system, caller.person)]
    orgs = registry.list_orgs(system, caller.person)
    return page(
        request,
        caller,
        "console/registry.html",
        orgs=orgs,
        sites=registry.list_sites(system, caller.person),
        cameras=cameras,
        obstructions=registry.list_obstructions(system, caller.person),
        vocab=vocabularies(system, language(request)),
        org_kinds=ORG_KINDS,
        causes=OBSTRUCTION_CAUSES,
        today=today(system),
        may_change=may(caller.person, "registry.write"),
    )


@router.post("/registry/orgs")
def add_org(
    caller: Registrar,
    org_id: Id,
    name: Short,
    kind: Annotated[str, Form(max_length=32)],
    qualification_no: Annotated[str, Form(max_length=100)] = "",
    qualification_expires: Day = "",
) -> Response:
    registry.add_org(
        caller.system,
        caller.person,
        org_id=org_id.strip(),
        name=name,
        kind=kind,
        qualification_no=text(qualification_no),
        qualification_expires=optional_date(qualification_expires, "qualification expires"),
    )
    return _back("#orgs")


@router.post("/registry/sites")
def add_site(
    caller: Registrar,
    site_id: Id,
    name: Short,
    category: Id,
    owner_id: Id,
    address: Short = "",
    managing_body: Short = "",
) -> Response:
    registry.add_site(
        caller.system,
        caller.person,
        site_id=site_id.strip(),
        name=name,
        category=category,
        owner_id=owner_id,
        address=text(address),
        managing_body=text(managing_body),
    )
    return _back("#sites")


@router.post("/registry/cameras")
def add_camera(
    caller: Registrar,
    camera_id: Id,
    site_id: Id,
    placement: Id,
    coverage: Id,
    stream_url: Long,
    commissioned: Day,
    installer_id: Id = "",
) -> Response:
    registry.add_camera(
        caller.system,
        caller.person,
        camera_id=camera_id.strip(),
        site_id=site_id,
        placement=placement,
        coverage=coverage,
        stream_url=stream_url.strip(),
        commissioned=a_date(commissioned, "commissioned"),
        installer_id=text(installer_id),
    )
    return _back("#cameras")


@router.post("/registry/cameras/{camera_id}/remove")
def remove_camera(camera_id: CameraId, caller: Registrar, removed: Day) -> Response:
    registry.remove_camera(caller.system, caller.person, camera_id, a_date(removed, "removed on"))
    return _back("#cameras")


@router.post("/registry/obstructions")
def report_obstruction(
    caller: Registrar,
    camera_id: Id,
    reported_on: Day,
    cause: Annotated[str, Form(max_length=32)],
    description: Long = "",
    responsible_party: Short = "",
) -> Response:
    registry.report_obstruction(
        caller.system,
        caller.person,
        camera_id=camera_id,
        reported_on=a_date(reported_on, "reported on"),
        cause=cause,
        description=text(description),
        responsible_party=text(responsible_party),
    )
    return _back("#obstructions")


@router.post("/registry/obstructions/{obstruction_id}/resolve")
def resolve_obstruction(obstruction_id: RowId, caller: Registrar, resolved_on: Day) -> Response:
    registry.resolve_obstruction(
        caller.system, caller.person, obstruction_id, a_date(resolved_on, "resolved on")
    )
    return _back("#obstructions")
