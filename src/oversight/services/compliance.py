"""Compliance use cases: the report over the whole registry, and due filings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from oversight.bootstrap import System
from oversight.domain import compliance
from oversight.domain.filing import FilingObligation, filing_obligations
from oversight.services import alarms, capacity, maintenance, people, recording, retention
from oversight.services.filemodes import exposures
from oversight.services.registry import registry_state
from oversight.services.witnessing import open_alarms as witness_alarms


@dataclass(frozen=True)
class Report:
    packs: list[str]
    at: date
    findings: list[compliance.Finding]

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": ",".join(self.packs),
            "packs": self.packs,
            "at": self.at.isoformat(),
            "findings": [f.to_json() for f in self.findings],
        }


def resolve_day(system: System, at: date | None) -> date:
    """``--at`` or today, as a local date in the packs' time zone."""
    return at if at is not None else system.packs.local_date(system.clock.now())


def report(system: System, at: date | None = None) -> Report:
    day = resolve_day(system, at)
    state = registry_state(system)
    packs = [p.pack.id for p in system.packs.active(day)] or system.packs.ids
    # Coverage counts cameras actually recording (issue 22); known for today only.
    live = recording.recording_now(system) if day == resolve_day(system, None) else None
    findings = compliance.evaluate(state, system.packs, day, live)
    findings += compliance.training_findings(people.people_with_scope(system), system.packs, day)
    # Footage findings judge the end of the day asked about (or now, for today).
    end_of_day = system.packs.start_of_day(day + timedelta(days=1))
    plan = retention.make_plan(system, min(end_of_day, system.clock.now()))
    findings += compliance.retention_findings(plan.overdue, system.packs, day)
    # Operations (Art. 14(1) etc.): alarms open too long at that moment, overdue
    # inspections, sites without an emergency procedure.
    moment = min(end_of_day, system.clock.now())
    findings += compliance.alarm_findings(
        alarms.open_at(system, moment), state, system.packs, moment
    )
    # Footage that is not what was sealed (found at playback or export): Art. 15(2) etc.
    findings += compliance.integrity_findings(alarms.open_at(system, moment), system.packs, moment)
    findings += compliance.witness_findings(witness_alarms(system), system.packs, moment)
    with system.reads() as session:
        schedules, inspections, procedures = maintenance.load(session)
    findings += compliance.maintenance_findings(
        state, schedules, inspections, procedures, system.packs, day
    )
    if day == resolve_day(system, None):  # capacity is measured now, not in the past
        findings += compliance.capacity_findings(capacity.measure(system), system.packs, day)
        findings += compliance.disk_full_findings(_disk_full(system), system.packs, day)
        exposed = [(str(e.path.absolute()), e.line()) for e in exposures(system, every_file=False)]
        findings += compliance.file_mode_findings(exposed, system.packs, day)  # finding 5
    return Report(packs, day, compliance.sort_findings(findings))


def due_filings(
    system: System, at: date | None = None, *, include_filed: bool = False
) -> tuple[date, list[FilingObligation]]:
    day = resolve_day(system, at)
    obligations = filing_obligations(registry_state(system), system.packs, day)
    if not include_filed:
        obligations = [o for o in obligations if o.status in ("due", "overdue")]
    return day, obligations


def _disk_full(system: System) -> list[tuple[str, datetime]]:
    """Cameras whose latest disk alarm is still open (``disk_full`` after any ``disk_ok``)."""
    latest: dict[str, recording.EventRec] = {}
    events = recording.list_events(system, kind="disk_full") + recording.list_events(
        system, kind="disk_ok"
    )
    for event in sorted(events, key=lambda e: e.id):
        latest[event.camera or "*"] = event
    return [(cam, e.at) for cam, e in sorted(latest.items()) if e.kind == "disk_full"]
