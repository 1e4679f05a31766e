"""The history of exports (issue 22, item 6): who (both people present), when, grant,
request, cameras and range, destination, and the SHA-256 of the package's manifest and
zip. Each package is recorded by an ``export.done`` access leaf and a row of
``exports`` (migration 0021) written in one transaction; ``oversight verify`` checks the
rows against the leaves (``services/verify_exports.py``). Reading the history is
``audit.read`` (custodians, auditors, admins), each row in the reader's site scope.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import policy
from oversight.domain.people import Person
from oversight.evidence import naming
from oversight.ledger import leaves
from oversight.services import authz
from oversight.services.access import access_leaf

DONE = "export.done"


@dataclass(frozen=True)
class ExportRec:
    id: int
    name: str
    exported_at: datetime
    custodian: str
    witness: str
    grant_id: int
    request_id: int
    cameras: list[str]
    start: datetime
    end: datetime
    destination: str
    form: str  # zip | folder
    manifest_sha256: str
    zip_sha256: str | None
    zip_bytes: int | None
    export_leaf: int
    leaf_index: int

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("exported_at", "start", "end"):
            data[key] = leaves.instant(data[key])
        return data


def _rec(row: m.Export) -> ExportRec:
    return ExportRec(
        row.id,
        row.name,
        row.exported_at,
        row.custodian,
        row.witness,
        row.grant_id,
        row.request_id,
        list(row.cameras),
        row.start_at,
        row.end_at,
        row.destination,
        row.form,
        row.manifest_sha256,
        row.zip_sha256,
        row.zip_bytes,
        row.export_leaf,
        row.leaf_index,
    )


def new_name(
    system: System, grant_id: int, cameras: list[str], start: datetime, end: datetime
) -> str:
    """A name no export has had: grant, cameras, range and now (``evidence/naming.py``)."""
    name = naming.package_name(grant_id, cameras, start, end, system.clock.now())
    with system.reads() as s:
        taken = set(
            s.scalars(select(m.Export.name).where(m.Export.name.startswith(name, autoescape=True)))
        )
    return naming.distinct(name, taken)


def done_details(rec: dict[str, Any]) -> dict[str, Any]:
    """What the ``export.done`` leaf records (and verify compares with the row)."""
    return {
        "name": rec["name"],
        "request": rec["request_id"],
        "cameras": sorted(rec["cameras"]),
        "start": leaves.instant(rec["start_at"]),
        "end": leaves.instant(rec["end_at"]),
        "form": rec["form"],
        "manifest_sha256": rec["manifest_sha256"],
        "zip_sha256": rec["zip_sha256"],
        "zip_bytes": rec["zip_bytes"],
        "export_leaf": rec["export_leaf"],
    }


def record(system: System, *, purpose: str, **fields: Any) -> ExportRec:
    """Append the ``export.done`` leaf and insert its history row, in one transaction."""
    fields["exported_at"] = system.clock.now()
    leaf = access_leaf(
        system,
        actors=[fields["custodian"], fields["witness"]],
        action=DONE,
        target=f"grant:{fields['grant_id']}",
        purpose=purpose,
        destination=fields["destination"],
        grant=str(fields["grant_id"]),
        details=done_details(fields),
    )
    with system.sessions.begin() as s:
        [index] = system.ledger.append(s, [leaf])
        row = m.Export(leaf_index=index, **fields)
        s.add(row)
        s.flush()
        return _rec(row)


def _visible(s: Session, person: Person, rows: list[m.Export]) -> list[ExportRec]:
    sites = dict(s.execute(select(m.Camera.id, m.Camera.site_id)).all())
    return [
        _rec(r)
        for r in rows
        if policy.visible(person, "audit.read", [sites.get(c, "") for c in r.cameras])
    ]


def list_exports(
    system: System, actor: Person, *, grant_id: int | None = None, limit: int = 500
) -> list[ExportRec]:
    """The latest ``limit`` exports ``actor`` may see (``audit.read``, in scope), newest
    first; of one grant with ``grant_id``."""
    with system.reads() as s:
        person = authz.current(s, actor)
        policy.require(person, "audit.read")
        query = select(m.Export).order_by(m.Export.id.desc()).limit(limit)
        if grant_id is not None:
            query = query.where(m.Export.grant_id == grant_id)
        return _visible(s, person, list(s.scalars(query)))
