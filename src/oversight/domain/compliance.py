"""The compliance engine: (registry state, rule packs, day) -> findings.

Pure: no database, no clock. Each finding names the rule, the article, the subject,
since when it holds, the deadline that was missed (if any) and the penalty range
that the penalty article sets for an operating unit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from oversight.domain import registry
from oversight.domain.alarms import Alarm
from oversight.domain.capacity import Capacity
from oversight.domain.filing import filing_obligations
from oversight.domain.maintenance import (
    InspectionDone,
    Procedure,
    Schedule,
    default_interval,
    interval_rules,
    next_due,
)
from oversight.domain.model import CameraRec, RegistryState
from oversight.domain.people import Person, training_gaps
from oversight.domain.retention import Decision
from oversight.rules.layering import Cited, PackSet
from oversight.rules.schema import (
    AccessControlRule,
    AlarmOpenLimitRule,
    InstallerQualifiedRule,
    IntegrityRule,
    ObstructionRule,
    ProcedureRequiredRule,
    RetentionCeilingRule,
    RetentionMinimumRule,
    Severity,
)


@dataclass(frozen=True)
class Finding:
    rule: str
    article: str
    pack: str
    subject: str
    message: str
    severity: Severity
    since: date | None = None
    deadline: date | None = None
    penalty_article: str | None = None
    min_cny: int | None = None
    max_cny: int | None = None
    also: tuple[Cited, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        penalty = (
            None
            if self.min_cny is None or self.max_cny is None
            else {"min_cny": self.min_cny, "max_cny": self.max_cny, "article": self.penalty_article}
        )
        return {
            "rule": self.rule,
            "article": self.article,
            "pack": self.pack,
            "subject": self.subject,
            "message": self.message,
            "severity": self.severity,
            "since": self.since.isoformat() if self.since else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "penalty": penalty,
            "also": [
                {"pack": c.pack_id, "rule": c.rule_id, "article": c.article} for c in self.also
            ],
        }


def _finding(
    cited: Cited,
    subject: str,
    message: str,
    severity: Severity,
    *,
    since: date | None = None,
    deadline: date | None = None,
    also: tuple[Cited, ...] = (),
) -> Finding:
    fine = cited.penalty.fine if cited.penalty else None
    return Finding(
        rule=cited.rule_id,
        article=cited.article,
        pack=cited.pack_id,
        subject=subject,
        message=message,
        severity=severity,
        since=since,
        deadline=deadline,
        penalty_article=cited.penalty.cite if cited.penalty else None,
        min_cny=fine.min_cny if fine else None,
        max_cny=fine.max_cny if fine else None,
        also=also,
    )


def evaluate(
    state: RegistryState, packs: PackSet, at: date, recording: Collection[str] | None = None
) -> list[Finding]:
    """All findings that hold on day ``at`` (a local date in the packs' time zone).
    ``recording``: the cameras actually recording (issue 22); a registered camera that
    is not among them covers nothing. None: not known (a past day), the registry alone."""
    findings: list[Finding] = []
    findings += _placements(state, packs, at)
    findings += _installers(state, packs, at)
    findings += _filings(state, packs, at)
    findings += _coverage(state, packs, at, recording)
    findings += _obstructions(state, packs, at)
    findings += _conflicts(packs, at)
    return sort_findings(findings)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    order = {"critical": 0, "major": 1, "minor": 2, "info": 3}
    return sorted(findings, key=lambda f: (order[f.severity], f.subject, f.rule))


def _placements(state: RegistryState, packs: PackSet, at: date) -> list[Finding]:
    out = []
    for cam in state.cameras.values():
        if not cam.active_on(at):
            continue
        category = state.sites[cam.site_id].category
        cited = packs.prohibitions(cam.placement, at, category=category)
        if cited:
            out.append(
                _finding(
                    cited[0],
                    f"camera:{cam.id}",
                    f"camera {cam.id} is installed at a prohibited placement ({cam.placement})",
                    "critical",
                    since=cam.commissioned,
                    also=tuple(cited[1:]),
                )
            )
    return out


def _installers(state: RegistryState, packs: PackSet, at: date) -> list[Finding]:
    out = []
    for cam in state.cameras.values():
        if not cam.active_on(at):
            continue
        site = state.sites[cam.site_id]
        owner = state.orgs[site.owner_id]
        cited = registry.installer_restriction(packs, site, owner, at)
        if cited is not None:
            out.append(
                _finding(
                    cited,
                    f"camera:{cam.id}",
                    f"camera {cam.id} was installed by {owner.id} ({owner.kind}) in site "
                    f"{site.id} ({site.category}), where {owner.kind} owners may not install",
                    "major",
                    since=cam.commissioned,
                )
            )
        installer = state.orgs.get(cam.installer_id) if cam.installer_id else None
        if installer is None or registry.installer_qualified(installer, cam.commissioned):
            continue
        rules = packs.rules(InstallerQualifiedRule, cam.commissioned, category=site.category)
        for pack, rule in rules:
            reason = (
                f"qualification expired on {installer.qualification_expires}"
                if installer.qualification_no
                else "no security-technology qualification on record"
            )
            out.append(
                _finding(
                    packs.cited(pack, rule),
                    f"camera:{cam.id}",
                    f"installer {installer.id} was not qualified when camera {cam.id} was "
                    f"commissioned on {cam.commissioned} ({reason})",
                    rule.severity,
                    since=cam.commissioned,
                )
            )
    return out


def _filings(state: RegistryState, packs: PackSet, at: date) -> list[Finding]:
    out = []
    for ob in filing_obligations(state, packs, at):
        if ob.status != "overdue":
            continue
        what = "commissioning" if ob.kind == "commissioning" else "removal"
        out.append(
            _finding(
                ob.deadline.cited,
                f"camera:{ob.camera_id}",
                f"{what} of camera {ob.camera_id} on {ob.event_date} was not filed with the "
                f"police by {ob.deadline.due}",
                "major",
                since=ob.deadline.due + timedelta(days=1),
                deadline=ob.deadline.due,
                also=tuple(d.cited for d in ob.also),
            )
        )
    return out


def _coverage(
    state: RegistryState, packs: PackSet, at: date, recording: Collection[str] | None
) -> list[Finding]:
    out = []
    for site in state.sites.values():
        active = [c for c in state.cameras.values() if c.site_id == site.id and c.active_on(at)]
        covered = {c.coverage_point for c in active if recording is None or c.id in recording}
        for point, requiring in packs.required_coverage(site.category, at).items():
            if point in covered:
                continue
            cited = [packs.cited(pack, rule) for pack, rule in requiring]
            # A camera registered for the point but not recording covers nothing: say so.
            idle = sorted(c.id for c in active if c.coverage_point == point)
            why = f" (registered but not recording: {', '.join(idle)})" if idle else ""
            out.append(
                _finding(
                    cited[0],
                    f"site:{site.id}",
                    f"site {site.id} ({site.category}){why} has no active camera covering "
                    f"its required {point.replace('_', ' ')}",
                    "major",
                    also=tuple(cited[1:]),
                )
            )
    return out


def _obstructions(state: RegistryState, packs: PackSet, at: date) -> list[Finding]:
    out = []
    rules = packs.rules(ObstructionRule, at)
    for ob in state.obstructions:
        if ob.reported_on > at or (ob.resolved_on is not None and ob.resolved_on <= at):
            continue
        cited = [packs.cited(p, r) for p, r in rules]
        if not cited:
            continue
        party = f" by {ob.responsible_party}" if ob.responsible_party else ""
        out.append(
            _finding(
                cited[0],
                f"camera:{ob.camera_id}",
                f"camera {ob.camera_id} is blocked ({ob.cause}){party} since {ob.reported_on}",
                "major",
                since=ob.reported_on,
                also=tuple(cited[1:]),
            )
        )
    return out


def _conflicts(packs: PackSet, at: date) -> list[Finding]:
    return [
        Finding(
            rule="pack_conflict",
            article=f"{c.minimum.article} / {c.maximum.article}",
            pack=f"{c.minimum.pack_id}+{c.maximum.pack_id}",
            subject=f"retention_class:{c.retention_class}",
            message=f"rule packs conflict, legal review needed: {c.message}",
            severity="major",
        )
        for c in packs.conflicts(at)
    ]


def retention_findings(
    overdue: Sequence[Decision], packs: PackSet, at: date, *, grace: timedelta = timedelta(days=1)
) -> list[Finding]:
    """Footage kept past its deletion date under a pack ceiling (e.g. cn-2025 Art. 17),
    one finding per camera; a day's grace lets the daily purge run first."""
    rules = packs.rules(RetentionCeilingRule, at)
    if not rules:
        return []
    cited = [packs.cited(p, r) for p, r in rules]
    by_camera: dict[str, list[Decision]] = {}
    for decision in overdue:
        by_camera.setdefault(decision.segment.camera, []).append(decision)
    out = []
    for camera, decisions in sorted(by_camera.items()):
        late = [
            d
            for d in decisions
            if d.keep_until + grace <= packs.start_of_day(at + timedelta(days=1))
        ]
        if not late:
            continue
        oldest = min(d.keep_until for d in late)
        size = sum(d.segment.size for d in late)
        out.append(
            _finding(
                cited[0],
                f"camera:{camera}",
                f"camera {camera} keeps {len(late)} segments ({size} bytes) past their "
                f"deletion date (the oldest since {packs.local_date(oldest)}): run "
                "`oversight retention run`, or mark or hold what must stay",
                "minor",
                since=packs.local_date(oldest),
                also=tuple(cited[1:]),
            )
        )
    return out


def capacity_findings(cap: Capacity, packs: PackSet, at: date) -> list[Finding]:
    """A store too small for the legal retention at the measured bitrates (Art. 14(5)):
    reported before it becomes lost footage."""
    if cap.sufficient:
        return []
    rules = [
        (p, r)
        for p, r in packs.rules(RetentionMinimumRule, at)
        if r.params.retention_class == "standard"
    ]
    if not rules:
        return []
    cited = [packs.cited(p, r) for p, r in rules]
    days = cap.days or 0.0
    total = cap.total_bytes or 0
    short = max(0.0, cap.needed_bytes - total)
    return [
        _finding(
            cited[0],
            "storage",
            f"the store holds {days:.1f} days of footage at the measured "
            f"{cap.bytes_per_day * 8 / 86400 / 1e6:.2f} Mbit/s of all cameras; retention needs "
            f"{cap.needed_bytes / 1e9:.1f} GB (at least {cap.floor_days} days): "
            f"add {short / 1e9:.1f} GB or more before footage is lost",
            "major",
            since=at,
            also=tuple(cited[1:]),
        )
    ]


def disk_full_findings(
    stopped: Sequence[tuple[str, datetime]], packs: PackSet, at: date
) -> list[Finding]:
    """Cameras the recorder stopped because the disk is nearly full: footage the law
    requires is not being recorded (Art. 14(5)); nothing was deleted to make room."""
    rules = [
        (p, r)
        for p, r in packs.rules(RetentionMinimumRule, at)
        if r.params.retention_class == "standard"
    ]
    if not rules:
        return []
    cited = [packs.cited(p, r) for p, r in rules]
    return [
        _finding(
            cited[0],
            "storage" if camera == "*" else f"camera:{camera}",
            f"{'no camera' if camera == '*' else f'camera {camera}'} is recording since "
            f"{since.isoformat()}: the disk is below its free-space threshold "
            "(no footage was deleted to make room)",
            "critical",
            since=packs.local_date(since),
            also=tuple(cited[1:]),
        )
        for camera, since in stopped
    ]


def file_mode_findings(
    exposed: Sequence[tuple[str, str]], packs: PackSet, at: date
) -> list[Finding]:
    """Paths of the deployment that other local accounts can read, write or enter, as
    (path, one-line description with the fix): each bypasses the enforcement point."""
    rules = packs.rules(AccessControlRule, at)
    if not rules:
        return []
    cited = [packs.cited(p, r) for p, r in rules]
    return [
        _finding(cited[0], f"path:{path}", line, "critical", also=tuple(cited[1:]))
        for path, line in exposed
    ]


def training_findings(
    people: Sequence[tuple[Person, Collection[str] | None]], packs: PackSet, at: date
) -> list[Finding]:
    """People holding roles a training rule gates (e.g. operator, custodian) without valid
    training in its topics on ``at``; each with the categories of their site scope (None:
    every site), since a pack may exempt some site categories from the rule."""
    out = []
    for person, categories in people:
        gaps = training_gaps(person, packs, at, categories)
        if not gaps:
            continue
        first = gaps[0]
        missing = sorted({t for g in gaps for t in g.missing})
        roles = [r for r in person.roles if any(r in g.roles for g in gaps)]
        ended = max((g.expired_on for g in gaps if g.expired_on), default=None)
        why = f"training expired on {ended}" if ended else "no valid training on record"
        out.append(
            _finding(
                first.requirement.cited,
                f"user:{person.id}",
                f"user {person.id} holds the role {', '.join(roles)} without valid training "
                f"in {', '.join(missing)} ({why})",
                first.requirement.severity,
                since=ended + timedelta(days=1) if ended else None,
                also=tuple(g.requirement.cited for g in gaps[1:]),
            )
        )
    return out


def alarm_findings(
    alarms: Sequence[Alarm], state: RegistryState, packs: PackSet, moment: datetime
) -> list[Finding]:
    """Alarms open at ``moment`` for longer than an ``alarm_open_limit`` rule allows
    for their kind (e.g. a camera offline or covered for more than a day)."""
    day = packs.local_date(moment)
    out = []
    for alarm in alarms:
        if not alarm.open_at(moment):
            continue
        cam = state.cameras.get(alarm.camera)
        category = state.sites[cam.site_id].category if cam and cam.site_id in state.sites else None
        cited: list[Cited] = []
        limit: timedelta | None = None
        for pack, rule in packs.rules(AlarmOpenLimitRule, day, category=category):
            if alarm.kind not in rule.params.kinds:
                continue
            allowed = timedelta(hours=rule.params.max_open_hours)
            if alarm.open_for(moment) > allowed:
                cited.append(packs.cited(pack, rule))
                limit = allowed if limit is None else min(limit, allowed)
        if not cited or limit is None:
            continue
        hours = int(alarm.open_for(moment).total_seconds() // 3600)
        ack = f", acknowledged by {alarm.acked_by}" if alarm.acked_by else ", not acknowledged"
        out.append(
            _finding(
                cited[0],
                f"camera:{alarm.camera}",
                f"camera {alarm.camera}: {alarm.kind.replace('_', ' ')} alarm {alarm.id} open "
                f"since {alarm.started_at.isoformat()} ({hours} h, more than the "
                f"{int(limit.total_seconds() // 3600)} h allowed{ack}): {alarm.detail}",
                "major",
                since=packs.local_date(alarm.started_at + limit),
                also=tuple(cited[1:]),
            )
        )
    return out


def integrity_findings(alarms: Sequence[Alarm], packs: PackSet, moment: datetime) -> list[Finding]:
    """Open ``integrity`` alarms: stored footage that differs from its sealed SHA-256
    (found by the enforcement point, which served none of it) breaches the packs'
    ``integrity`` rules (original recordings must not be altered) from the first sight."""
    day = packs.local_date(moment)
    cited = [packs.cited(pack, rule) for pack, rule in packs.rules(IntegrityRule, day)]
    return [
        _finding(
            cited[0],
            f"camera:{alarm.camera}",
            f"camera {alarm.camera}: integrity alarm {alarm.id} open since "
            f"{alarm.started_at.isoformat()} (seen {alarm.seen} times): {alarm.detail}",
            "critical",
            since=packs.local_date(alarm.started_at),
            also=tuple(cited[1:]),
        )
        for alarm in alarms
        if cited and alarm.kind == "integrity" and alarm.open_at(moment)
    ]


def witness_findings(
    alarms: Sequence[tuple[str, str, datetime, str]], packs: PackSet, moment: datetime
) -> list[Finding]:
    """Open witness alarms as (witness, kind, since, detail): a witness refusing the
    ledger (``witness-fork``: it was cut or rewritten) or unreachable past the threshold
    (``witness-unreachable``: nobody outside vouches for it) breaches the packs'
    ``integrity`` rules (original records must not be deleted or altered, Art. 15(2))."""
    day = packs.local_date(moment)
    cited = [packs.cited(pack, rule) for pack, rule in packs.rules(IntegrityRule, day)]
    if not cited:
        return []
    return [
        _finding(
            cited[0],
            f"witness:{witness}",
            f"witness {witness}: {kind} alarm open since {since.isoformat()}: {detail}",
            "critical",
            since=packs.local_date(since),
            also=tuple(cited[1:]),
        )
        for witness, kind, since, detail in alarms
    ]


def maintenance_findings(
    state: RegistryState,
    schedules: Sequence[Schedule],
    inspections: Sequence[InspectionDone],
    procedures: Sequence[Procedure],
    packs: PackSet,
    at: date,
) -> list[Finding]:
    """Art. 14(1): overdue inspections (per schedule, or the packs' default interval for
    a site with none), and sites with active cameras but no emergency procedure on file
    once the packs' grace period has run out."""
    out: list[Finding] = []
    done = [i for i in inspections if i.on <= at]
    for site in state.sites.values():
        cams = [c for c in state.cameras.values() if c.site_id == site.id and c.active_on(at)]
        if not cams:
            continue
        first = min(c.commissioned for c in cams)
        out += _inspection_findings(site.id, site.category, cams, first, schedules, done, packs, at)
        out += _procedure_findings(site.id, site.category, first, procedures, packs, at)
    return out


def _inspection_findings(
    site: str,
    category: str,
    cams: Sequence[CameraRec],
    first: date,
    schedules: Sequence[Schedule],
    done: Sequence[InspectionDone],
    packs: PackSet,
    at: date,
) -> list[Finding]:
    rules = interval_rules(packs, at, category)
    if not rules:
        return []
    cited = [packs.cited(p, r) for p, r in rules]
    active = {c.id for c in cams}
    own = [
        s
        for s in schedules
        if s.site == site and s.starts_on <= at and (s.camera is None or s.camera in active)
    ]
    dues = [next_due(s, done) for s in own]
    if not any(s.camera is None for s in own):
        days = default_interval(packs, at, category)
        if days is not None:
            pseudo = Schedule(f"site:{site}", site, None, days, first)
            dues.append(next_due(pseudo, done, default=True))
    out = []
    for due in dues:
        if not due.overdue_on(at):
            continue
        sched = due.schedule
        what = f"camera {sched.camera}" if sched.camera else f"site {site}"
        basis = (
            f"no schedule on file: the packs' default of every {sched.interval_days} days "
            f"from {sched.starts_on}"
            if due.default
            else f"scheduled every {sched.interval_days} days"
        )
        last = f"last inspected {due.last.on}" if due.last else "never inspected"
        out.append(
            _finding(
                cited[0],
                sched.scope,
                f"the inspection of {what} was due on {due.due} ({basis}; {last})",
                "major",
                since=due.due + timedelta(days=1),
                deadline=due.due,
                also=tuple(cited[1:]),
            )
        )
    return out


def _procedure_findings(
    site: str,
    category: str,
    first: date,
    procedures: Sequence[Procedure],
    packs: PackSet,
    at: date,
) -> list[Finding]:
    if any(p.site == site and p.adopted_on <= at for p in procedures):
        return []
    rules = packs.rules(ProcedureRequiredRule, at, category=category)
    if not rules:
        return []
    grace = min(r.params.grace_days for _, r in rules)
    deadline = first + timedelta(days=grace)
    if deadline >= at:
        return []
    cited = [packs.cited(p, r) for p, r in rules]
    return [
        _finding(
            cited[0],
            f"site:{site}",
            f"site {site} has no emergency procedure on file (cameras since {first}; due by "
            f"{deadline}): `oversight maintenance procedure --site {site} ...`",
            "major",
            since=deadline + timedelta(days=1),
            deadline=deadline,
            also=tuple(cited[1:]),
        )
    ]
