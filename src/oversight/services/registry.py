"""Registry use cases: organisations, sites, cameras, filings, obstruction reports.

Each public function is one transaction. Validation (ids, dates, vocabularies, rule
packs) happens before anything is written, so a refused action writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import policy
from oversight.domain import registry as rules
from oversight.domain.model import (
    FILING_KINDS,
    OBSTRUCTION_CAUSES,
    ORG_KINDS,
    CameraRec,
    FilingRec,
    ObstructionRec,
    Org,
    RegistryState,
    SiteRec,
)
from oversight.domain.people import Person
from oversight.domain.text import check_text
from oversight.errors import AlreadyExists, InvalidInput, NotFound
from oversight.ledger import leaves
from oversight.redaction import redact_url
from oversight.services import authz, credentials

_T = TypeVar("_T")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # every registry id
STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https", "file")


def _check_id(value: str, noun: str) -> None:
    if not ID_RE.match(value):
        raise InvalidInput(
            f"{noun} id {value!r} is invalid: use 1-64 letters, digits, '_', '.' or '-'"
        )


def _check_text(value: str, field: str) -> str:
    return check_text(value, field, max_chars=500)  # as the API's registry fields


def _today(system: System) -> date:
    return system.packs.local_date(system.clock.now())


# ---- conversions ----


def to_org(row: m.Organisation) -> Org:
    return Org(row.id, row.name, row.kind, row.qualification_no, row.qualification_expires)


def to_site(row: m.Site) -> SiteRec:
    return SiteRec(row.id, row.name, row.category, row.owner_id, row.address, row.managing_body)


def to_camera(row: m.Camera) -> CameraRec:
    return CameraRec(
        row.id,
        row.site_id,
        row.placement,
        row.coverage_point,
        row.commissioned,
        row.removed,
        row.installer_id,
    )


def load_state(session: Session) -> RegistryState:
    return RegistryState(
        orgs={r.id: to_org(r) for r in session.scalars(select(m.Organisation))},
        sites={r.id: to_site(r) for r in session.scalars(select(m.Site))},
        cameras={r.id: to_camera(r) for r in session.scalars(select(m.Camera))},
        filings=[
            FilingRec(r.camera_id, r.kind, r.filed_on, r.receipt)
            for r in session.scalars(select(m.Filing))
        ],
        obstructions=[
            ObstructionRec(
                r.id, r.camera_id, r.reported_on, r.cause, r.resolved_on, r.responsible_party
            )
            for r in session.scalars(select(m.Obstruction))
        ],
    )


def _record(
    session: Session,
    system: System,
    actor: Person,
    action: str,
    subject: str,
    changes: dict[str, object],
) -> None:
    """Append the registry change as a ledger leaf in the caller's transaction."""
    values = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in changes.items()}
    leaf = leaves.registry(
        at=system.clock.now(),
        actor=actor.id,
        action=action,
        subject=subject,
        changes={k: v for k, v in values.items() if v is not None},
    )
    system.ledger.append(session, [leaf])


def _get(session: Session, model: type[_T], key: object, noun: str) -> _T:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{noun} {key!r} does not exist")
    return row


# ---- organisations ----


def add_org(
    system: System,
    actor: Person,
    *,
    org_id: str,
    name: str,
    kind: str,
    qualification_no: str | None = None,
    qualification_expires: date | None = None,
) -> Org:
    _check_id(org_id, "organisation")
    name = _check_text(name, "--name")
    if kind not in ORG_KINDS:
        raise InvalidInput(f"unknown organisation kind {kind!r} (use {'|'.join(ORG_KINDS)})")
    if qualification_expires is not None and not qualification_no:
        raise InvalidInput("--qualification-expires needs --qualification")
    if qualification_no and kind != "installer":
        raise InvalidInput("only an installer holds a security-technology qualification")
    with system.sessions.begin() as s:
        authz.deployment(s, actor, "registry.write")
        if s.get(m.Organisation, org_id) is not None:
            raise AlreadyExists(f"organisation {org_id!r} already exists")
        row = m.Organisation(
            id=org_id,
            name=name,
            kind=kind,
            qualification_no=qualification_no,
            qualification_expires=qualification_expires,
            created_at=system.clock.now(),
        )
        s.add(row)
        _record(
            s,
            system,
            actor,
            "org.add",
            f"org:{org_id}",
            {
                "name": name,
                "kind": kind,
                "qualification_no": qualification_no,
                "qualification_expires": qualification_expires,
            },
        )
        return to_org(row)


def list_orgs(system: System, actor: Person) -> list[Org]:
    with system.reads() as s:
        authz.deployment(s, actor, "registry.read")
        return [to_org(r) for r in s.scalars(select(m.Organisation).order_by(m.Organisation.id))]


def get_org(system: System, actor: Person, org_id: str) -> Org:
    with system.reads() as s:
        authz.deployment(s, actor, "registry.read")
        return to_org(_get(s, m.Organisation, org_id, "organisation"))


# ---- sites ----


def add_site(
    system: System,
    actor: Person,
    *,
    site_id: str,
    name: str,
    category: str,
    owner_id: str,
    address: str | None = None,
    managing_body: str | None = None,
) -> SiteRec:
    _check_id(site_id, "site")
    name = _check_text(name, "--name")
    system.packs.require_site_category(category)
    with system.sessions.begin() as s:
        # A new site lies at itself: only an unscoped registrar (or one whose scope
        # already names it) may create it.
        authz.decide(s, actor, "registry.write", policy.at_sites("site", site_id, [site_id]))
        if s.get(m.Site, site_id) is not None:
            raise AlreadyExists(f"site {site_id!r} already exists")
        owner = _get(s, m.Organisation, owner_id, "organisation")
        if owner.kind == "installer":
            raise InvalidInput(f"organisation {owner_id!r} is an installer, not an owner")
        row = m.Site(
            id=site_id,
            name=name,
            category=category,
            owner_id=owner_id,
            address=address,
            managing_body=managing_body,
            created_at=system.clock.now(),
        )
        s.add(row)
        _record(
            s,
            system,
            actor,
            "site.add",
            f"site:{site_id}",
            {"name": name, "category": category, "owner": owner_id, "address": address},
        )
        return to_site(row)


def list_sites(system: System, actor: Person) -> list[SiteRec]:
    with system.reads() as s:
        person = authz.current(s, actor)
        sites = policy.site_filter(person, "registry.read")
        return [
            to_site(r)
            for r in s.scalars(select(m.Site).order_by(m.Site.id))
            if sites is None or r.id in sites
        ]


def get_site(system: System, actor: Person, site_id: str) -> tuple[SiteRec, list[CameraRec]]:
    with system.reads() as s:
        authz.on_site(s, actor, "registry.read", site_id)
        site = to_site(_get(s, m.Site, site_id, "site"))
        cams = s.scalars(select(m.Camera).where(m.Camera.site_id == site_id).order_by(m.Camera.id))
        return site, [to_camera(c) for c in cams]


# ---- cameras ----


def _check_stream(url: str) -> None:
    # The stored form: a password with '[' or ']' would make urlsplit raise.
    try:
        parts = urlsplit(redact_url(url))
    except ValueError:
        raise InvalidInput("--stream is not a valid URL (check its host and port)") from None
    if parts.scheme not in STREAM_SCHEMES or not (parts.netloc or parts.scheme == "file"):
        raise InvalidInput(
            f"--stream must be a {', '.join(STREAM_SCHEMES)} URL (got scheme {parts.scheme!r})"
        )


def _check_masks(masks: Sequence[Sequence[Sequence[float]]]) -> list[list[list[float]]]:
    out = []
    for i, poly in enumerate(masks):
        if len(poly) < 3:
            raise InvalidInput(f"privacy mask {i + 1} needs at least 3 points")
        points = []
        for pt in poly:
            if len(pt) != 2 or not all(0.0 <= float(v) <= 1.0 for v in pt):
                raise InvalidInput(
                    f"privacy mask {i + 1}: points are [x, y] with 0 <= x, y <= 1 (got {pt!r})"
                )
            points.append([float(pt[0]), float(pt[1])])
        out.append(points)
    return out


def add_camera(
    system: System,
    actor: Person,
    *,
    camera_id: str,
    site_id: str,
    placement: str,
    coverage: str,
    stream_url: str,
    commissioned: date,
    installer_id: str | None = None,
    privacy_masks: Sequence[Sequence[Sequence[float]]] = (),
) -> CameraRec:
    _check_id(camera_id, "camera")
    _check_stream(stream_url)
    masks = _check_masks(privacy_masks)
    today = _today(system)
    if commissioned > today:
        raise InvalidInput(f"--commissioned {commissioned} is in the future")
    with system.sessions.begin() as s:
        if s.get(m.Camera, camera_id) is not None:
            raise AlreadyExists(f"camera {camera_id!r} already exists")
        site = _get(s, m.Site, site_id, "site")
        authz.decide(s, actor, "registry.write", policy.at_sites("camera", camera_id, [site_id]))
        owner = _get(s, m.Organisation, site.owner_id, "organisation")
        installer = (
            to_org(_get(s, m.Organisation, installer_id, "organisation")) if installer_id else None
        )
        camera = CameraRec(
            camera_id, site_id, placement, coverage, commissioned, None, installer_id
        )
        rules.check_new_camera(system.packs, camera, to_site(site), to_org(owner), installer, today)
        # Credentials in the URL are split off and sealed (only now: a refused camera
        # writes nothing, not even the key): the row, the leaf and every output hold
        # the URL with "***" in their place.
        stored_url, sealed = credentials.store_form(system, stream_url)
        row = m.Camera(
            id=camera_id,
            site_id=site_id,
            placement=placement,
            coverage_point=coverage,
            stream_url=stored_url,
            credentials=sealed,
            installer_id=installer_id,
            commissioned=commissioned,
            removed=None,
            privacy_masks=masks,
            created_at=system.clock.now(),
        )
        s.add(row)
        s.flush()  # the lease row refers to the camera
        # Its lease in a recorder pool, made here once rather than by every node's cycle.
        s.add(m.CameraLease(camera_id=camera_id, copy=0, epoch=0))
        _record(
            s,
            system,
            actor,
            "camera.add",
            f"camera:{camera_id}",
            {
                "site": site_id,
                "placement": placement,
                "coverage": coverage,
                "stream": stored_url,
                "commissioned": commissioned,
                "installer": installer_id,
                "privacy_masks": str(len(masks)),
            },
        )
        return camera


def remove_camera(system: System, actor: Person, camera_id: str, removed: date) -> CameraRec:
    with system.sessions.begin() as s:
        row = _get(s, m.Camera, camera_id, "camera")
        authz.on_cameras(s, actor, "registry.write", [camera_id])
        if row.removed is not None:
            raise InvalidInput(f"camera {camera_id!r} was already removed on {row.removed}")
        if removed < row.commissioned:
            raise InvalidInput(
                f"--date {removed} precedes the commissioning date {row.commissioned}"
            )
        if removed > _today(system):
            raise InvalidInput(f"--date {removed} is in the future")
        row.removed = removed
        _record(s, system, actor, "camera.remove", f"camera:{camera_id}", {"removed": removed})
        return to_camera(row)


PRIORITIES = {"critical": 9, "normal": 5, "low": 1}  # claim order in a recorder pool


def set_priority(system: System, actor: Person, camera_id: str, level: str) -> int:
    """How early a recorder pool short of capacity claims the camera (critical first)."""
    if level not in PRIORITIES:
        raise InvalidInput(f"priority {level!r} is not one of {', '.join(PRIORITIES)}")
    with system.sessions.begin() as s:
        row = _get(s, m.Camera, camera_id, "camera")
        authz.on_cameras(s, actor, "registry.write", [camera_id])
        row.priority = PRIORITIES[level]
        _record(s, system, actor, "camera.priority", f"camera:{camera_id}", {"priority": level})
        return row.priority


def set_redundant(system: System, actor: Person, camera_id: str, redundant: bool) -> bool:
    """Whether a recorder pool records the camera on two nodes at once (issue 21): each
    copy under its own lease, so the death of one node costs the camera no footage."""
    with system.sessions.begin() as s:
        row = _get(s, m.Camera, camera_id, "camera")
        authz.on_cameras(s, actor, "registry.write", [camera_id])
        if row.removed is not None:
            raise InvalidInput(f"camera {camera_id} was removed on {row.removed}")
        if redundant and s.get(m.CameraLease, (camera_id, 1)) is None:
            s.add(m.CameraLease(camera_id=camera_id, copy=1, epoch=0))  # the second lease
        if row.redundant != redundant:
            row.redundant = redundant
            _record(
                s, system, actor, "camera.redundant", f"camera:{camera_id}",
                {"redundant": "on" if redundant else "off"},
            )  # fmt: skip
        return row.redundant


def list_cameras(
    system: System, actor: Person, site_id: str | None = None
) -> list[tuple[CameraRec, str]]:
    """Cameras with their stream URL as stored: credentials are ``***``."""
    with system.reads() as s:
        person = authz.current(s, actor)
        sites = policy.site_filter(person, "registry.read")
        query = select(m.Camera).order_by(m.Camera.id)
        if site_id is not None:
            authz.on_site(s, person, "registry.read", site_id)
            query = query.where(m.Camera.site_id == site_id)
        if sites is not None:
            query = query.where(m.Camera.site_id.in_(sorted(sites)))
        return [(to_camera(r), r.stream_url) for r in s.scalars(query)]


def requestable_cameras(system: System, actor: Person) -> list[CameraRec]:
    """The cameras ``actor`` may request footage of (``access.request``), without their
    streams: a requester needs to name and find them, not to reach them."""
    with system.reads() as s:
        person = authz.current(s, actor)
        sites = policy.site_filter(person, "access.request")
        query = select(m.Camera).where(m.Camera.removed.is_(None)).order_by(m.Camera.id)
        if sites is not None:
            query = query.where(m.Camera.site_id.in_(sorted(sites)))
        return [to_camera(r) for r in s.scalars(query)]


def get_camera(
    system: System, actor: Person, camera_id: str
) -> tuple[CameraRec, str, list[list[list[float]]]]:
    with system.reads() as s:
        row = _get(s, m.Camera, camera_id, "camera")
        authz.on_cameras(s, actor, "registry.read", [camera_id])
        return to_camera(row), row.stream_url, list(row.privacy_masks or [])


# ---- filings and obstructions ----


def record_filing(
    system: System,
    actor: Person,
    *,
    camera_id: str,
    kind: str,
    filed_on: date,
    receipt: str,
    police_office: str | None = None,
) -> FilingRec:
    if kind not in FILING_KINDS:
        raise InvalidInput(f"unknown filing kind {kind!r} (use {'|'.join(FILING_KINDS)})")
    receipt = _check_text(receipt, "--receipt")
    if filed_on > _today(system):
        raise InvalidInput(f"--date {filed_on} is in the future")
    with system.sessions.begin() as s:
        cam = _get(s, m.Camera, camera_id, "camera")
        authz.on_cameras(s, actor, "registry.write", [camera_id])
        event = cam.commissioned if kind == "commissioning" else cam.removed
        if event is None:
            raise InvalidInput(f"camera {camera_id!r} has not been removed; nothing to file")
        if filed_on < event:
            raise InvalidInput(f"--date {filed_on} precedes the {kind} on {event}")
        existing = s.scalar(
            select(m.Filing).where(m.Filing.camera_id == camera_id, m.Filing.kind == kind)
        )
        if existing is not None:
            raise AlreadyExists(
                f"the {kind} of camera {camera_id!r} was already filed on {existing.filed_on} "
                f"(receipt {existing.receipt})"
            )
        s.add(
            m.Filing(
                camera_id=camera_id,
                kind=kind,
                filed_on=filed_on,
                receipt=receipt,
                police_office=police_office,
                created_at=system.clock.now(),
            )
        )
        _record(
            s,
            system,
            actor,
            "filing.record",
            f"camera:{camera_id}",
            {
                "kind": kind,
                "filed_on": filed_on,
                "receipt": receipt,
                "police_office": police_office,
            },
        )
        return FilingRec(camera_id, kind, filed_on, receipt)


def report_obstruction(
    system: System,
    actor: Person,
    *,
    camera_id: str,
    reported_on: date,
    cause: str,
    description: str | None = None,
    responsible_party: str | None = None,
) -> ObstructionRec:
    if cause not in OBSTRUCTION_CAUSES:
        raise InvalidInput(f"unknown cause {cause!r} (use {'|'.join(OBSTRUCTION_CAUSES)})")
    if reported_on > _today(system):
        raise InvalidInput(f"--date {reported_on} is in the future")
    with system.sessions.begin() as s:
        _get(s, m.Camera, camera_id, "camera")
        authz.on_cameras(s, actor, "registry.write", [camera_id])
        row = m.Obstruction(
            camera_id=camera_id,
            reported_on=reported_on,
            cause=cause,
            description=description,
            responsible_party=responsible_party,
            resolved_on=None,
            created_at=system.clock.now(),
        )
        s.add(row)
        s.flush()
        _record(
            s,
            system,
            actor,
            "obstruction.report",
            f"camera:{camera_id}",
            {"id": row.id, "cause": cause, "reported_on": reported_on, "party": responsible_party},
        )
        return ObstructionRec(row.id, camera_id, reported_on, cause, None, responsible_party)


def resolve_obstruction(
    system: System, actor: Person, obstruction_id: int, resolved_on: date
) -> ObstructionRec:
    with system.sessions.begin() as s:
        row = _get(s, m.Obstruction, obstruction_id, "obstruction report")
        authz.on_cameras(s, actor, "registry.write", [row.camera_id])
        if row.resolved_on is not None:
            raise InvalidInput(f"obstruction {obstruction_id} was resolved on {row.resolved_on}")
        if resolved_on < row.reported_on:
            raise InvalidInput(f"--date {resolved_on} precedes the report on {row.reported_on}")
        row.resolved_on = resolved_on
        _record(
            s,
            system,
            actor,
            "obstruction.resolve",
            f"camera:{row.camera_id}",
            {"id": row.id, "resolved_on": resolved_on},
        )
        return ObstructionRec(
            row.id, row.camera_id, row.reported_on, row.cause, resolved_on, row.responsible_party
        )


def list_obstructions(system: System, actor: Person) -> list[ObstructionRec]:
    with system.reads() as s:
        cameras = authz.visible_cameras(s, actor, "registry.read")
        return [o for o in load_state(s).obstructions if cameras is None or o.camera_id in cameras]


def registry_state(system: System) -> RegistryState:
    with system.reads() as s:
        return load_state(s)
