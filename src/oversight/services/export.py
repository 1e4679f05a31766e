"""Export a grant as an evidence package, with two people present (Arts. 16-17).

The custodian (logged in) and a witness (who entered their own password) execute the
grant through the enforcement point (``services/footage.py``), which logs the
``export`` leaf before handing over the segment files; the package then carries that
leaf's inclusion proof, so the recipient sees who released what, why and to whom.
Each camera's clip is cut at keyframes inward (``evidence/clips.py`` with
``media/trim.py``, as playback is): it holds nothing outside the grant, and a range
with no keyframe of a camera refuses the export, with no package written.

Every package gets a distinct name (grant, cameras, range, export time:
``evidence/naming.py``); once written (and zipped, for the console and the API) it is
recorded in the history of exports by an ``export.done`` leaf (``services/exports.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain.people import Person
from oversight.errors import AlreadyExists, NotFound, OversightError, StorageError
from oversight.evidence import manifest as mf
from oversight.evidence.archive import zip_package
from oversight.evidence.package import ClipSpec, Release, Requester, package_from_ledger
from oversight.services import exports, footage, witnessing
from oversight.services.access import access_leaf
from oversight.services.sealing import file_sha256


def _check_target(out_dir: Path) -> Path:
    """Refuse an unusable output directory before anything is logged."""
    target = out_dir.absolute()
    if not target.parent.is_dir():
        raise NotFound(f"the directory {target.parent} does not exist")
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise AlreadyExists(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise AlreadyExists(f"{target} is not empty: an evidence package needs a new directory")
    return target


# (phase, done, total): "cut" per clip, "check", then "zip" (a zip only) and "record".
Progress = Callable[[str, int, int], None]


def _masks(system: System, cameras: list[str]) -> dict[str, list[list[list[float]]]]:
    with system.reads() as s:
        rows = s.scalars(select(m.Camera).where(m.Camera.id.in_(cameras)))
        return {r.id: list(r.privacy_masks or []) for r in rows}


def export_grant(
    system: System,
    custodian: Person,
    witness: Person,
    *,
    grant_id: int,
    out_dir: Path | None = None,
    into: Path | None = None,
    watermark: bool = False,
    archive: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write the evidence package of grant ``grant_id``; its path. Into the new directory
    ``out_dir``, or (``into``) a new folder of the package's distinct name inside the
    directory ``into``; with ``archive`` (``into`` only) also zipped beside it, and the
    zip's path is returned. A grant to view only cannot be exported (check_use refuses
    a copy under a view grant)."""
    if (out_dir is None) == (into is None) or (archive and into is None):
        raise ValueError("give out_dir or into (archive: into)")
    with system.reads() as s:
        row = s.get(m.AccessGrant, grant_id)
        if row is None:
            raise NotFound(f"grant {grant_id} does not exist")
        kind = "retrieve" if row.kind == "retrieve" else "copy"
        cameras = list(row.cameras)
        span = (row.start_at, row.end_at)
    name = exports.new_name(system, grant_id, cameras, *span)
    if into is not None:
        if not into.is_dir() or into.is_symlink():
            raise NotFound(f"the directory {into} does not exist")
        out_dir = into / name
        if (into / f"{name}.zip").exists():
            raise AlreadyExists(f"{into / name}.zip exists")
    assert out_dir is not None
    target = _check_target(out_dir)
    masks = _masks(system, cameras)
    with footage.release(
        system,
        grant_id=grant_id,
        kind=kind,
        action="export",
        present=[custodian, witness],
    ) as handover:
        grant, request = handover.grant, handover.request
        clips = []
        for camera in sorted(grant.cameras):
            mine = [seg for seg in handover.segments if seg.camera == camera]
            if not mine:
                continue
            start = max(grant.start, min(seg.start for seg in mine))
            end = min(grant.end, max(seg.end for seg in mine))
            if end > start:
                clips.append(ClipSpec(camera, start, end, watermark, masks.get(camera, [])))
        release = Release(
            request_id=str(request.id),
            grant_id=str(grant.id),
            kind=grant.kind,
            purpose=request.purpose,
            destination=request.destination,
            requester=Requester(request.requester_name, request.organisation, request.org_class),
            executed_by=[custodian.id, witness.id],
            released_by=system.settings.ledger_origin,
            cameras=sorted(grant.cameras),
            start=grant.start,
            end=grant.end,
        )
        # Ask the witnesses to cosign the checkpoint the package will carry (best effort:
        # one that fails is retried by the background submitter; the package says less).
        witnessing.submit_all(system)
        try:
            written = package_from_ledger(
                system,
                target,
                release=release,
                clips=clips,
                segments=[seg.file for seg in handover.segments],
                audit_leaves=[handover.leaf_index],
                progress=progress,
            )
            zipped = None
            if archive:
                if progress is not None:
                    progress("zip", 0, 1)
                zipped = written.parent / f"{name}.zip"
                try:
                    zip_package(written, zipped, name)
                except OSError as exc:  # disk full: translated where it enters
                    raise StorageError(f"zipping the package failed: {exc}") from None
        except OversightError as exc:
            # The bytes were handed over under the export leaf; that no package came of
            # it is on the record too.
            leaf = access_leaf(
                system,
                actors=[custodian.id, witness.id],
                action="export.failed",
                target=f"grant:{grant.id}",
                purpose=request.purpose,
                destination=request.destination,
                grant=str(grant.id),
                details={"reason": exc.message, "export_leaf": handover.leaf_index},
            )
            with system.sessions.begin() as s:
                system.ledger.append(s, [leaf])
            raise
        if progress is not None:
            progress("record", 0, 1)
        zip_digest = file_sha256(zipped) if zipped is not None else (None, None)
        exports.record(
            system,
            purpose=request.purpose,
            name=name,
            custodian=custodian.id,
            witness=witness.id,
            grant_id=grant.id,
            request_id=request.id,
            cameras=sorted(grant.cameras),
            start_at=grant.start,
            end_at=grant.end,
            destination=request.destination,
            form="zip" if zipped is not None else "folder",
            manifest_sha256=file_sha256(written / mf.MANIFEST)[0],
            zip_sha256=zip_digest[0],
            zip_bytes=zip_digest[1],
            export_leaf=handover.leaf_index,
        )
        return zipped if zipped is not None else written
