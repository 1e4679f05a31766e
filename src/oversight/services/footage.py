"""The enforcement point: the only code that opens segment bytes for people (Art. 17).

:func:`release` steps, in order:

1. in one transaction: load the grant and its request, check every use against the
   grant (kind, camera, time range, expiry, revocation: ``domain.access.check_use``),
   the people present (``check_persons`` on user id and identity document, each of
   them trained: ``check_trained``), and find the sealed segments in scope;
2. append the ``access`` leaf (actors, action, target, purpose, destination, grant,
   and the segments) and commit it: the ledger signs a checkpoint covering it in the
   same transaction;
3. only then hand over the segment files (the local store's own files, read-only, or
   copies taken from an object store into a private temporary directory), each one
   first hashed and checked against the SHA-256 and size its ``segment_sealed`` leaf
   holds. A mismatch hands over nothing: it is an ``<action>.integrity`` leaf, an
   ``integrity`` alarm on the camera (a compliance finding while open) and a
   :class:`FootageIntegrityError`;
4. for ``view`` (playback), the file stays open (the very descriptor that was hashed,
   so a file swapped after the check is not what is served) with its :class:`trim.Cut`:
   the init section and the whole fragments inside the use's time range, cut at
   keyframes inward (``media/trim.py``). Playback serves those byte ranges and nothing
   else of the file.

A refusal in step 1 is recorded as an ``<action>.refused`` leaf and re-raised. If the
append in step 2 fails, the exception propagates and no byte is handed over.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import access as rules
from oversight.domain import copies
from oversight.domain.people import PermissionDenied, Person, check_trained
from oversight.errors import FootageIntegrityError, InvalidInput, NotFound, RuleViolation
from oversight.evidence.package import SegmentFile
from oversight.ledger import leaves
from oversight.media import trim
from oversight.services import access as svc
from oversight.services import alarms, authz, windows
from oversight.services.recording import utc


@dataclass(frozen=True)
class Use:
    """One camera and time range the people present want to use under a grant."""

    camera: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Segment:
    camera: str
    start: datetime
    end: datetime
    storage_key: str
    leaf_index: int
    file: SegmentFile
    segment_id: int = -1
    # view only: the verified open file, and what of it lies inside the use (step 4).
    handle: BinaryIO | None = None
    cut: trim.Cut | None = None


@dataclass(frozen=True)
class Handover:
    """What the enforcement point hands over after its audit leaf is committed."""

    leaf_index: int
    grant: svc.GrantRec
    request: svc.RequestRec
    segments: Sequence[Segment]


def _today(system: System) -> date:
    return system.packs.local_date(system.clock.now())


# The action each kind of use needs of the person acting (the policy table's rows).
ACTIONS = {"view": "footage.view", "copy": "footage.export", "retrieve": "footage.export"}


def _check_uses(system: System, grant: rules.Grant, kind: str, uses: Sequence[Use]) -> None:
    now = system.clock.now()
    for use in uses:
        rules.check_use(grant, kind, use.camera, use.start, use.end, now)


def check_people(
    session: Session,
    system: System,
    grant: svc.GrantRec,
    kind: str,
    present: Sequence[Person],
    cameras: Collection[str],
) -> list[Person]:
    """The people present as stored now, once the policy allows each of them: the first
    acts (``footage.view`` or ``footage.export``), every other one is a witness
    (``footage.witness``), all within the cameras' site scope; then the two-person rule
    (``domain.access.check_present``: distinct trained people, the requester never
    counting) and each one's training."""
    if not present:
        raise PermissionDenied("nobody is acting: log in first", rule="role")
    action = ACTIONS.get(kind)
    if action is None:
        raise InvalidInput(f"access kind {kind!r} is not one of {', '.join(ACTIONS)}")
    current = [authz.on_cameras(session, present[0], action, cameras, kind="grant", id=grant.id)]
    current += [
        authz.on_cameras(session, p, "footage.witness", cameras, kind="grant", id=grant.id)
        for p in present[1:]
    ]
    today = _today(system)
    rules.check_present(system.packs, today, current, _requester(session, grant.request_id))
    for person in current:
        check_trained(person, system.packs, today)
    return current


def check_execution(
    system: System, custodian: Person, witness: Person, *, grant_id: int, kind: str = "view"
) -> None:
    """Refuse early what :func:`release` would refuse at every use of the grant by these
    two people (the console opens an execution with it); a refusal is an
    ``execute.refused`` leaf of the register."""
    present = [custodian, witness]
    context: dict[str, Any] = {"purpose": "", "destination": ""}
    try:
        with system.reads() as s:
            row = s.get(m.AccessGrant, grant_id)
            if row is None:
                raise NotFound(f"grant {grant_id} does not exist")
            grant = svc._grant_rec(row)
            request = s.get_one(m.AccessRequest, row.request_id)
            context.update(purpose=request.purpose, destination=request.destination)
            check_people(s, system, grant, kind, present, grant.cameras)
            uses = [Use(c, grant.start, grant.end) for c in sorted(grant.cameras)]
            _check_uses(system, grant.to_domain(), kind, uses)
    except (RuleViolation, PermissionDenied) as exc:
        svc.record_refusal(
            system,
            exc,
            actors=[p.id for p in present],
            action="execute",
            target=f"grant:{grant_id}",
            grant=str(grant_id),
            details={"kind": kind},
            **context,
        )
        raise


@contextmanager
def release(
    system: System,
    *,
    grant_id: int,
    kind: str,
    action: str,
    present: Sequence[Person],
    uses: Sequence[Use] | None = None,
    segment_ids: Collection[int] | None = None,
    details: Mapping[str, Any] | None = None,
) -> Iterator[Handover]:
    """Check, log, then hand over the sealed segments of ``uses`` (default: the whole
    scope of the grant). ``present[0]`` acts; the others witness (see
    :func:`check_people`). ``segment_ids`` narrows the handover to those segments (one
    HLS request, one segment); each must lie in the scope checked, else the use is
    refused. ``details`` are added to the leaf's (a snapshot's instant)."""
    actors = [p.id for p in present]
    context: dict[str, Any] = {"purpose": "", "destination": ""}
    try:
        with system.sessions.begin() as s:
            row = s.get(m.AccessGrant, grant_id)
            if row is None:
                raise NotFound(f"grant {grant_id} does not exist")
            grant_rec = svc._grant_rec(row)
            request = svc._request_rec(s.get_one(m.AccessRequest, row.request_id), row)
            context.update(purpose=request.purpose, destination=request.destination)
            wanted = (
                list(uses)
                if uses is not None
                else [Use(c, grant_rec.start, grant_rec.end) for c in grant_rec.cameras]
            )
            if not wanted:
                raise InvalidInput("nothing to release: no camera and time range given")
            # The people as stored now (roles, scope, training may have changed), each
            # allowed by the policy for every camera used; then the uses and the
            # two-person rule.
            cameras = sorted({u.camera for u in wanted})
            check_people(s, system, grant_rec, kind, present, cameras)
            _check_uses(system, grant_rec.to_domain(), kind, wanted)
            found = _segments(s, wanted)
            if segment_ids is not None:
                found = _only(found, segment_ids, grant_id)
            if not found:
                raise NotFound(f"no sealed footage in the scope of grant {grant_id}")
            leaf = svc.access_leaf(
                system,
                actors=actors,
                action=action,
                target=",".join(cameras),
                purpose=request.purpose,
                destination=request.destination,
                grant=str(grant_id),
                details={
                    "kind": kind,
                    "request": str(request.id),
                    "uses": [{"camera": u.camera, **svc._range(u.start, u.end)} for u in wanted],
                    "segments": [seg.storage_key for seg in found],
                    # The footage itself, not only the grant's range: the register shows
                    # which minutes a playback viewed (one HLS part per leaf).
                    "viewed": _viewed(wanted, found) if kind == "view" else None,
                    **(details or {}),
                },
            )
            index = system.ledger.append(s, [leaf])[0]
            sealed = {row.id: _sealed(system, s, row) for row in found}
    except (RuleViolation, PermissionDenied) as exc:
        svc.record_refusal(
            system,
            exc,
            actors=actors,
            action=action,
            target=f"grant:{grant_id}",
            purpose=context["purpose"],
            destination=context["destination"],
            grant=str(grant_id),
            details={"kind": kind},
        )
        raise
    # Committed and checkpointed: only now are bytes handed over, each file checked.
    audit = _Audit(actors, action, grant_id, request, index)
    with _files(system, found, sealed, audit, wanted if kind == "view" else None) as segments:
        yield Handover(index, grant_rec, request, segments)


def _viewed(uses: Sequence[Use], found: Sequence[_Row]) -> list[dict[str, str]]:
    """Per camera, the span of the segments handed over, cut to the uses asked for."""
    out = []
    for camera in sorted({row.camera for row in found}):
        rows = [row for row in found if row.camera == camera]
        asked = [u for u in uses if u.camera == camera] or list(uses)
        start = max(min(r.start for r in rows), min(u.start for u in asked))
        end = min(max(r.end for r in rows), max(u.end for u in asked))
        out.append({"camera": camera, **svc._range(start, max(start, end))})
    return out


def _requester(session: Session, request_id: int) -> rules.Requester:
    """Who wants the footage: the account that entered the request and the identity
    documents of the requester named in it and of that account."""
    request = session.get_one(m.AccessRequest, request_id)
    entered_by = session.get(m.User, request.requested_by)
    docs = {request.id_doc, entered_by.id_doc if entered_by is not None else None}
    return rules.Requester(request.requested_by, frozenset(d for d in docs if d))


def _only(found: Sequence[_Row], wanted: Collection[int], grant_id: int) -> list[_Row]:
    """The segments ``wanted`` among those in scope; any other is a refused use."""
    outside = sorted(set(wanted) - {row.id for row in found})
    if outside:
        raise RuleViolation(
            f"grant {grant_id} does not cover segment {', '.join(map(str, outside))}",
            rule="access_grant",
            article="Art. 16",
        )
    return [row for row in found if row.id in wanted]


@dataclass(frozen=True)
class _Row:
    id: int
    camera: str
    start: datetime
    end: datetime
    storage_key: str
    leaf_index: int


def _segments(session: Any, uses: Sequence[Use]) -> list[_Row]:
    rows: dict[int, m.Segment] = {}
    for use in uses:
        query = (
            select(m.Segment)
            .where(
                m.Segment.camera_id == use.camera,
                m.Segment.deleted_at.is_(None),
                *windows.overlapping(session, use.start, use.end, [use.camera]),
            )
            .order_by(m.Segment.start_at, m.Segment.id)
        )
        for row in session.scalars(query):
            rows[row.id] = row
    ordered = sorted(rows.values(), key=lambda r: (r.camera_id, r.start_at, r.id))
    # One recording per camera: a redundant camera's second copy and late footage only
    # where the first copy has a hole (domain/copies.py).
    handed = [
        r
        for _, same in itertools.groupby(ordered, key=lambda r: r.camera_id)
        for r in copies.one_recording(
            list(same),
            lambda r: (utc(r.start_at), utc(r.end_at)),
            lambda r: copies.rank(r.copy, r.late),
        )
    ]
    return [
        _Row(r.id, r.camera_id, utc(r.start_at), utc(r.end_at), r.storage_key, r.leaf_index)
        for r in handed
    ]


def _sealed(system: System, session: Session, row: _Row) -> tuple[str, int]:
    """The SHA-256 and size the segment's ``segment_sealed`` leaf holds (the ledger is
    the authority, not the index row); nothing matches a leaf that seals another."""
    leaf = leaves.decode(system.ledger.leaf(session, row.leaf_index).data)
    if leaf.get("type") != "segment_sealed" or leaf.get("storage_key") != row.storage_key:
        return "", -1
    return str(leaf["sha256"]), int(leaf["bytes"])


@dataclass(frozen=True)
class _Audit:
    """The handover's context, for the leaf of a mismatch."""

    actors: list[str]
    action: str
    grant_id: int
    request: svc.RequestRec
    leaf_index: int


def _digest(f: BinaryIO) -> tuple[str, int]:
    f.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := f.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    f.seek(0)
    return digest.hexdigest(), size


def _mismatch(
    system: System, row: _Row, audit: _Audit, sealed: tuple[str, int], found: tuple[str, int]
) -> FootageIntegrityError:
    """Record a stored file that is not the sealed segment: a leaf, then an alarm."""
    detail = (
        f"segment {row.storage_key} does not match its sealed SHA-256 (ledger leaf "
        f"{row.leaf_index}): {found[1]} bytes stored, "
        + (f"{sealed[1]} sealed" if sealed[1] >= 0 else "and that leaf seals no such segment")
    )
    leaf = svc.access_leaf(
        system,
        actors=audit.actors,
        action=f"{audit.action}.integrity",
        target=row.camera,
        purpose=audit.request.purpose,
        destination=audit.request.destination,
        grant=str(audit.grant_id),
        details={
            "segment": row.storage_key,
            "sealed_leaf": row.leaf_index,
            "sealed_sha256": sealed[0],
            "sealed_bytes": sealed[1],
            "found_sha256": found[0],
            "found_bytes": found[1],
            "access_leaf": audit.leaf_index,
            "served": 0,
        },
    )
    with system.sessions.begin() as s:
        system.ledger.append(s, [leaf])
    alarms.raise_alarm(system, camera=row.camera, kind="integrity", detail=detail)
    return FootageIntegrityError(f"{detail}; nothing of it was served, an alarm is raised")


def _micros(delta: timedelta) -> Fraction:
    return Fraction(delta // timedelta(microseconds=1), 1_000_000)


def _cut(row: _Row, f: BinaryIO, size: int, uses: Sequence[Use]) -> trim.Cut | None:
    """What of a segment lies inside the first use of its camera that overlaps it, in
    the file's own times (zero at the segment's start); None for a file that is not a
    fragmented MP4 (playback refuses it)."""
    if not row.storage_key.endswith(".mp4"):
        return None
    use = next(
        u for u in uses if u.camera == row.camera and u.start < row.end and u.end > row.start
    )
    return trim.cut(f, size, _micros(use.start - row.start), _micros(use.end - row.start))


@contextmanager
def _files(
    system: System,
    rows: Sequence[_Row],
    sealed: dict[int, tuple[str, int]],
    audit: _Audit,
    view: Sequence[Use] | None = None,
) -> Iterator[list[Segment]]:
    """The checked files of ``rows``; with ``view``, each kept open with its cut."""
    local = getattr(system.store, "path", None)
    tmp: Path | None = None
    with ExitStack() as held:
        try:
            out = []
            for row in rows:
                try:
                    if callable(local):
                        path = Path(local(row.storage_key))
                    else:
                        if tmp is None:
                            tmp = Path(tempfile.mkdtemp(prefix="oversight-release-"))
                        path = tmp / f"{row.id}-{row.storage_key.rsplit('/', 1)[-1]}"
                        with system.store.open(row.storage_key) as src, path.open("wb") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
                    f = held.enter_context(path.open("rb"))
                except (FileNotFoundError, NotFound):
                    # Gone from the store: as much a mismatch as a changed file.
                    raise _mismatch(system, row, audit, sealed[row.id], ("", 0)) from None
                found = _digest(f)
                if found != sealed[row.id]:
                    raise _mismatch(system, row, audit, sealed[row.id], found)
                handle, cut = None, None
                if view is not None:
                    handle, cut = f, _cut(row, f, found[1], view)
                else:
                    f.close()
                out.append(
                    Segment(
                        row.camera,
                        row.start,
                        row.end,
                        row.storage_key,
                        row.leaf_index,
                        SegmentFile(row.leaf_index, path),
                        row.id,
                        handle,
                        cut,
                    )
                )
            yield out
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
