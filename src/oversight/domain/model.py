"""Plain records of registry state that domain logic evaluates (no ORM, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

OrgKind = Literal["owner", "installer", "police"]
FilingKind = Literal["commissioning", "removal"]
ORG_KINDS: tuple[str, ...] = ("owner", "installer", "police")
FILING_KINDS: tuple[str, ...] = ("commissioning", "removal")
OBSTRUCTION_CAUSES: tuple[str, ...] = ("advert", "pipeline", "cable", "tree", "other")


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    kind: str
    qualification_no: str | None = None
    qualification_expires: date | None = None


@dataclass(frozen=True)
class SiteRec:
    id: str
    name: str
    category: str
    owner_id: str
    address: str | None = None
    managing_body: str | None = None


@dataclass(frozen=True)
class CameraRec:
    id: str
    site_id: str
    placement: str
    coverage_point: str
    commissioned: date
    removed: date | None = None
    installer_id: str | None = None

    def active_on(self, day: date) -> bool:
        return self.commissioned <= day and (self.removed is None or day < self.removed)


@dataclass(frozen=True)
class FilingRec:
    camera_id: str
    kind: str
    filed_on: date
    receipt: str


@dataclass(frozen=True)
class ObstructionRec:
    id: int
    camera_id: str
    reported_on: date
    cause: str
    resolved_on: date | None = None
    responsible_party: str | None = None


@dataclass(frozen=True)
class RegistryState:
    orgs: dict[str, Org] = field(default_factory=dict)
    sites: dict[str, SiteRec] = field(default_factory=dict)
    cameras: dict[str, CameraRec] = field(default_factory=dict)
    filings: list[FilingRec] = field(default_factory=list)
    obstructions: list[ObstructionRec] = field(default_factory=list)

    def filing(self, camera_id: str, kind: str) -> FilingRec | None:
        return next((f for f in self.filings if f.camera_id == camera_id and f.kind == kind), None)
