"""``/api/v1`` registry: organisations, sites, cameras and obstruction reports.

A placement the rule packs forbid is refused by the service (RuleViolation: 422 with
the rule and its article) before anything is written.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from oversight.api.inline import inline
from oversight.api.schemas import ERRORS, ID_PATTERN, Day
from oversight.api.security import Caller, need
from oversight.domain.model import CameraRec, ObstructionRec, Org, SiteRec
from oversight.redaction import redact_url
from oversight.services import registry as svc
from oversight.services.limits import MAX_ID

router = APIRouter(tags=["registry"], responses=ERRORS)
Reader = Annotated[Caller, Depends(need("registry.read"))]
Registrar = Annotated[Caller, Depends(need("registry.write"))]
Id = Annotated[str, Field(pattern=ID_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class NewOrg(BaseModel):
    id: Id
    name: Text
    kind: Literal["owner", "installer", "police"]
    qualification_no: Annotated[str, Field(max_length=200)] | None = None
    qualification_expires: Day | None = None


class NewSite(BaseModel):
    id: Id
    name: Text
    category: Annotated[str, Field(min_length=1, max_length=100)]
    owner_id: Id
    address: Annotated[str, Field(max_length=500)] | None = None
    managing_body: Annotated[str, Field(max_length=500)] | None = None


Point = Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=2, max_length=2)]


class NewCamera(BaseModel):
    id: Id
    site_id: Id
    placement: Annotated[str, Field(min_length=1, max_length=100)]
    coverage: Annotated[str, Field(min_length=1, max_length=100)]
    stream_url: Annotated[str, Field(min_length=1, max_length=2000)]
    commissioned: Day
    installer_id: Id | None = None
    privacy_masks: Annotated[
        list[Annotated[list[Point], Field(max_length=64)]], Field(max_length=32)
    ] = []


class CameraOut(BaseModel):
    id: str
    site_id: str
    placement: str
    coverage_point: str
    commissioned: date
    removed: date | None
    installer_id: str | None
    stream: str  # credentials redacted
    privacy_masks: list[list[list[float]]] | None = None

    @classmethod
    def of(
        cls, rec: CameraRec, url: str, masks: list[list[list[float]]] | None = None
    ) -> CameraOut:
        return cls(**asdict(rec), stream=redact_url(url), privacy_masks=masks)


class NewObstruction(BaseModel):
    camera_id: Id
    reported_on: Day
    cause: Literal["advert", "pipeline", "cable", "tree", "other"]
    description: Annotated[str, Field(max_length=2000)] | None = None
    responsible_party: Annotated[str, Field(max_length=500)] | None = None


class Resolution(BaseModel):
    resolved_on: Day


@router.get("/orgs", response_model=list[Org], summary="List organisations")
@inline
def list_orgs(caller: Reader) -> list[Org]:
    return svc.list_orgs(caller.system, caller.person)


@router.post("/orgs", response_model=Org, status_code=201, summary="Register an organisation")
def add_org(body: NewOrg, caller: Registrar) -> Org:
    return svc.add_org(
        caller.system,
        caller.person,
        org_id=body.id,
        name=body.name,
        kind=body.kind,
        qualification_no=body.qualification_no,
        qualification_expires=body.qualification_expires,
    )


@router.get("/sites", response_model=list[SiteRec], summary="List sites")
@inline
def list_sites(caller: Reader) -> list[SiteRec]:
    return svc.list_sites(caller.system, caller.person)


@router.post("/sites", response_model=SiteRec, status_code=201, summary="Register a site")
def add_site(body: NewSite, caller: Registrar) -> SiteRec:
    return svc.add_site(
        caller.system,
        caller.person,
        site_id=body.id,
        name=body.name,
        category=body.category,
        owner_id=body.owner_id,
        address=body.address,
        managing_body=body.managing_body,
    )


@router.get("/cameras", response_model=list[CameraOut], summary="List cameras")
@inline
def list_cameras(
    caller: Reader, site: Annotated[str | None, Query(max_length=64)] = None
) -> list[CameraOut]:
    return [
        CameraOut.of(rec, url) for rec, url in svc.list_cameras(caller.system, caller.person, site)
    ]


@router.post(
    "/cameras",
    response_model=CameraOut,
    status_code=201,
    summary="Register a camera (a prohibited placement is refused with its article)",
)
def add_camera(body: NewCamera, caller: Registrar) -> CameraOut:
    rec = svc.add_camera(
        caller.system,
        caller.person,
        camera_id=body.id,
        site_id=body.site_id,
        placement=body.placement,
        coverage=body.coverage,
        stream_url=body.stream_url,
        commissioned=body.commissioned,
        installer_id=body.installer_id,
        privacy_masks=body.privacy_masks,
    )
    return CameraOut.of(
        rec, body.stream_url, [[list(p) for p in poly] for poly in body.privacy_masks]
    )


@router.get("/cameras/{camera_id}", response_model=CameraOut, summary="One camera")
@inline
def get_camera(camera_id: str, caller: Reader) -> CameraOut:
    rec, url, masks = svc.get_camera(caller.system, caller.person, camera_id)
    return CameraOut.of(rec, url, masks)


@router.delete(
    "/cameras/{camera_id}",
    response_model=CameraOut,
    summary="Record that a camera was removed (its footage stays under retention)",
)
def remove_camera(
    camera_id: str,
    caller: Registrar,
    removed: Annotated[Day, Query(description="The day the camera was taken out of use.")],
) -> CameraOut:
    svc.remove_camera(caller.system, caller.person, camera_id, removed)
    rec, url, masks = svc.get_camera(caller.system, caller.person, camera_id)
    return CameraOut.of(rec, url, masks)


@router.get("/obstructions", response_model=list[ObstructionRec], summary="Obstruction reports")
@inline
def list_obstructions(caller: Reader) -> list[ObstructionRec]:
    return svc.list_obstructions(caller.system, caller.person)


@router.post(
    "/obstructions",
    response_model=ObstructionRec,
    status_code=201,
    summary="Report an object blocking a camera (Art. 13)",
)
def report_obstruction(body: NewObstruction, caller: Registrar) -> ObstructionRec:
    return svc.report_obstruction(
        caller.system,
        caller.person,
        camera_id=body.camera_id,
        reported_on=body.reported_on,
        cause=body.cause,
        description=body.description,
        responsible_party=body.responsible_party,
    )


@router.post(
    "/obstructions/{obstruction_id}/resolve",
    response_model=ObstructionRec,
    summary="Record that an obstruction was removed",
)
def resolve_obstruction(
    obstruction_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Resolution, caller: Registrar
) -> ObstructionRec:
    return svc.resolve_obstruction(caller.system, caller.person, obstruction_id, body.resolved_on)
