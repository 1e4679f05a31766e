"""Maintenance use cases (xj-2014 Art. 14(1)): inspection schedules, inspections,
emergency procedures on file, repairs. Each is an ``operations`` ledger leaf written in
the same transaction as its row; refused input writes nothing.

Procedure documents are stored write-once under DATA_DIR/documents/<sha256>, the same
store as access documents; the row and the leaf keep the SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import maintenance as domain
from oversight.domain import policy
from oversight.domain.maintenance import InspectionDone, Procedure, RepairDone, Schedule
from oversight.domain.people import Person
from oversight.domain.text import check_text
from oversight.errors import InvalidInput, NotFound
from oversight.ledger import leaves
from oversight.services import authz
from oversight.services.documents import store_document

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Overview:
    schedules: list[Schedule] = field(default_factory=list)
    due: list[domain.Due] = field(default_factory=list)
    inspections: list[InspectionDone] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    repairs: list[RepairDone] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "schedules": [s.to_json() for s in self.schedules],
            "due": [d.to_json() for d in self.due],
            "inspections": [i.to_json() for i in self.inspections],
            "procedures": [p.to_json() for p in self.procedures],
            "repairs": [r.to_json() for r in self.repairs],
        }


def _today(system: System) -> date:
    return system.packs.local_date(system.clock.now())


def _acting(session: Session, actor: Person, site_id: str) -> Person:
    """The actor as stored now, once the policy lets them keep records of ``site_id``."""
    return authz.decide(
        session, actor, "maintenance.write", policy.at_sites("site", site_id, [site_id])
    )


def _leaf(
    system: System, actor: Person, action: str, subject: str, details: dict[str, Any]
) -> dict[str, Any]:
    return leaves.operations(
        at=system.clock.now(),
        actor=actor.id,
        action=action,
        subject=subject,
        details={k: v for k, v in details.items() if v is not None},
    )


def _add_with_leaf(
    s: Session,
    system: System,
    actor: Person,
    row: Any,
    action: str,
    subject: str,
    details: Callable[[int], dict[str, Any]],
) -> None:
    """Insert ``row`` with its operations leaf in the caller's transaction; the leaf names
    the row's id, so the row is flushed first and then given the leaf's index."""
    s.add(row)
    s.flush()
    row.leaf_index = system.ledger.append(
        s, [_leaf(system, actor, action, subject, details(row.id))]
    )[0]


def _check_day(system: System, day: date, what: str) -> date:
    if day > _today(system):
        raise InvalidInput(f"{what} {day} is in the future")
    return day


def _scope(session: Session, site: str | None, camera: str | None) -> tuple[str, str | None]:
    """(site id, camera id or None) of exactly one of --site / --camera, both checked."""
    if (site is None) == (camera is None):
        raise InvalidInput("give exactly one of --site and --camera")
    if camera is not None:
        row = session.get(m.Camera, camera)
        if row is None:
            raise NotFound(f"camera {camera!r} does not exist")
        return row.site_id, camera
    assert site is not None
    if session.get(m.Site, site) is None:
        raise NotFound(f"site {site!r} does not exist")
    return site, None


def _site_category(session: Session, site: str) -> str | None:
    row = session.get(m.Site, site)
    return row.category if row else None


# ---- conversions ----


def _schedule(row: m.InspectionSchedule) -> Schedule:
    return Schedule(
        row.scope, row.site_id, row.camera_id, row.interval_days, row.starts_on, row.set_by
    )


def _inspection(row: m.Inspection) -> InspectionDone:
    return InspectionDone(
        row.id, row.site_id, row.camera_id, row.inspected_on, row.inspector, row.result, row.notes
    )


def _procedure(row: m.EmergencyProcedure) -> Procedure:
    return Procedure(
        row.id,
        row.site_id,
        row.title,
        row.adopted_on,
        row.body is not None,
        row.document_sha256,
        row.filename,
        row.recorded_by,
    )


def _repair(row: m.Repair) -> RepairDone:
    return RepairDone(
        row.id, row.camera_id, row.repaired_on, row.description, row.alarm_id, row.recorded_by
    )


# ---- use cases ----


def set_schedule(
    system: System,
    actor: Person,
    *,
    site: str | None = None,
    camera: str | None = None,
    interval_days: int,
    starts_on: date | None = None,
) -> Schedule:
    """Inspect a site (or one camera) every ``interval_days``, counted from the latest
    inspection or ``starts_on`` (default today); replaces the scope's schedule."""
    today = _today(system)
    start = starts_on or today
    with system.sessions.begin() as s:
        site_id, cam = _scope(s, site, camera)
        current = _acting(s, actor, site_id)
        domain.check_interval(system.packs, interval_days, today, _site_category(s, site_id))
        scope = f"camera:{cam}" if cam else f"site:{site_id}"
        [index] = system.ledger.append(
            s,
            [
                _leaf(
                    system,
                    current,
                    "inspection.schedule",
                    scope,
                    {"interval_days": interval_days, "starts_on": start.isoformat()},
                )
            ],
        )
        row = s.get(m.InspectionSchedule, scope) or m.InspectionSchedule(scope=scope)
        row.site_id, row.camera_id = site_id, cam
        row.interval_days, row.starts_on = interval_days, start
        row.set_by, row.set_at, row.leaf_index = current.id, system.clock.now(), index
        s.add(row)
        s.flush()
        return _schedule(row)


def record_inspection(
    system: System,
    actor: Person,
    *,
    site: str | None = None,
    camera: str | None = None,
    on: date | None = None,
    result: str,
    notes: str = "",
) -> InspectionDone:
    """An inspection done by the logged-in person (the inspector) on ``on`` (today)."""
    domain.check_result(result)
    text = check_text(notes, "--notes", required=result != "ok")
    day = _check_day(system, on or _today(system), "the inspection date")
    with system.sessions.begin() as s:
        site_id, cam = _scope(s, site, camera)
        inspector = _acting(s, actor, site_id)
        row = m.Inspection(
            site_id=site_id,
            camera_id=cam,
            inspected_on=day,
            inspector=inspector.id,
            result=result,
            notes=text,
            recorded_by=inspector.id,
            created_at=system.clock.now(),
            leaf_index=-1,
        )
        _add_with_leaf(
            s,
            system,
            inspector,
            row,
            "inspection.record",
            f"camera:{cam}" if cam else f"site:{site_id}",
            lambda row_id: {
                "inspection": row_id,
                "site": site_id,
                "on": day.isoformat(),
                "inspector": inspector.id,
                "result": result,
                "notes": text,
            },
        )
        return _inspection(row)


def add_procedure(
    system: System,
    actor: Person,
    *,
    site: str,
    title: str,
    text: str | None = None,
    document: bytes | None = None,
    filename: str | None = None,
    adopted_on: date | None = None,
) -> Procedure:
    """Put an emergency-handling procedure on file for a site: its text, or a document
    (stored write-once by SHA-256, like access documents), or both."""
    name = check_text(title, "--title")
    if len(name) > 200:
        raise InvalidInput("--title is longer than 200 characters")
    body = check_text(text, "--text") if text is not None else None
    if body is None and document is None:
        raise InvalidInput("give the procedure's --text or a --document")
    if document is not None and not document:
        raise InvalidInput("the procedure document is empty")
    if document is not None and len(document) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"the procedure document is larger than {MAX_DOCUMENT_BYTES} bytes")
    file_name = (filename or "").strip()[:255] or None
    digest = hashlib.sha256(document).hexdigest() if document is not None else None
    day = _check_day(system, adopted_on or _today(system), "the adoption date")
    with system.reads() as s:
        _scope(s, site, None)
        _acting(s, actor, site)
    if document is not None:
        store_document(system, document)
    with system.sessions.begin() as s:
        current = _acting(s, actor, site)
        row = m.EmergencyProcedure(
            site_id=site,
            title=name,
            body=body,
            document_sha256=digest,
            filename=file_name,
            adopted_on=day,
            recorded_by=current.id,
            created_at=system.clock.now(),
            leaf_index=-1,
        )
        _add_with_leaf(
            s,
            system,
            current,
            row,
            "procedure.add",
            f"site:{site}",
            lambda row_id: {
                "procedure": row_id,
                "title": name,
                "adopted_on": day.isoformat(),
                "document_sha256": digest,
                "text_sha256": hashlib.sha256(body.encode()).hexdigest() if body else None,
            },
        )
        return _procedure(row)


def procedure_content(
    system: System, procedure_id: int
) -> tuple[Procedure, str | None, bytes | None]:
    """A procedure with its text and its document's bytes (checked against the SHA-256)."""
    with system.reads() as s:
        row = s.get(m.EmergencyProcedure, procedure_id)
        if row is None:
            raise NotFound(f"emergency procedure {procedure_id} does not exist")
        rec, body, digest = _procedure(row), row.body, row.document_sha256
    data = None
    if digest is not None:
        path = system.settings.data_dir / "documents" / digest
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"the document of procedure {procedure_id} is missing") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise InvalidInput(f"the document of procedure {procedure_id} is damaged")
    return rec, body, data


def record_repair(
    system: System,
    actor: Person,
    *,
    camera: str,
    description: str,
    on: date | None = None,
    alarm_id: int | None = None,
) -> RepairDone:
    """A repair of a camera, optionally for an alarm of that camera."""
    text = check_text(description, "--description")
    day = _check_day(system, on or _today(system), "the repair date")
    with system.sessions.begin() as s:
        site_id, _ = _scope(s, None, camera)
        current = _acting(s, actor, site_id)
        if alarm_id is not None:
            alarm = s.get(m.Alarm, alarm_id)
            if alarm is None:
                raise NotFound(f"alarm {alarm_id} does not exist")
            if alarm.camera_id != camera:
                raise InvalidInput(f"alarm {alarm_id} is of camera {alarm.camera_id}, not {camera}")
        row = m.Repair(
            camera_id=camera,
            repaired_on=day,
            description=text,
            alarm_id=alarm_id,
            recorded_by=current.id,
            created_at=system.clock.now(),
            leaf_index=-1,
        )
        _add_with_leaf(
            s,
            system,
            current,
            row,
            "repair.record",
            f"camera:{camera}",
            lambda row_id: {
                "repair": row_id,
                "on": day.isoformat(),
                "description": text,
                "alarm": str(alarm_id) if alarm_id is not None else None,
            },
        )
        return _repair(row)


# ---- queries ----


def load(session: Session) -> tuple[list[Schedule], list[InspectionDone], list[Procedure]]:
    """Everything the compliance engine needs."""
    schedules = [_schedule(r) for r in session.scalars(select(m.InspectionSchedule))]
    inspections = [_inspection(r) for r in session.scalars(select(m.Inspection))]
    procedures = [_procedure(r) for r in session.scalars(select(m.EmergencyProcedure))]
    return schedules, inspections, procedures


def overview(system: System, *, site: str | None = None) -> Overview:
    """Schedules with their next due date, inspections, procedures and repairs."""
    with system.reads() as s:
        if site is not None and s.get(m.Site, site) is None:
            raise NotFound(f"site {site!r} does not exist")
        schedules, inspections, procedures = load(s)
        repairs = [_repair(r) for r in s.scalars(select(m.Repair).order_by(m.Repair.id))]
        site_of = {c.id: c.site_id for c in s.scalars(select(m.Camera))}
    if site is not None:
        schedules = [x for x in schedules if x.site == site]
        inspections = [x for x in inspections if x.site == site]
        procedures = [x for x in procedures if x.site == site]
        repairs = [x for x in repairs if site_of.get(x.camera) == site]
    schedules.sort(key=lambda x: x.scope)
    inspections.sort(key=lambda x: (x.on, x.id), reverse=True)
    procedures.sort(key=lambda x: x.id)
    due = sorted((domain.next_due(x, inspections) for x in schedules), key=lambda d: d.due)
    return Overview(schedules, due, inspections, procedures, repairs)
