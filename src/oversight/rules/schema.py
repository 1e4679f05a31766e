"""The rule-pack schema: a regulation as data, every rule with its article.

A pack is a YAML document validated by these pydantic models. Code dispatches on
``Rule.kind`` (a closed set) and reads typed ``params``; it never names a pack.
Citations are strings such as ``Art. 8(2)`` (article 8, item 2) or
``Art. 8 para 2``; the leading article number is what completeness checks read.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1

CITE_PATTERN = r"^Arts?\. \d+"
_CITE_RE = re.compile(r"^Arts?\. (\d+)(?:\s*[-–]\s*(\d+))?")
SNAKE_ID = r"^[a-z][a-z0-9_]*$"
PACK_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"

Cite = Annotated[str, Field(pattern=CITE_PATTERN, description="e.g. 'Art. 8(2)'")]
SnakeId = Annotated[str, Field(pattern=SNAKE_ID)]
OrgKind = Literal["owner", "installer", "police"]
Regime = Literal["government_managed", "unit_managed", "other_public"]
ALL_REGIMES: tuple[Regime, ...] = ("government_managed", "unit_managed", "other_public")
AccessKind = Literal["view", "copy", "retrieve"]
RequesterClass = Literal[
    "police", "state_security", "emergency_response", "other_unit", "individual"
]
Severity = Literal["critical", "major", "minor", "info"]


def cited_articles(cite: str) -> list[int]:
    """Article numbers a citation names: ``Art. 8(2)`` -> [8]; ``Arts. 16-17`` -> [16, 17]."""
    match = _CITE_RE.match(cite)
    if match is None:
        return []
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else first
    return list(range(first, last + 1))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A label in the original language and in English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Jurisdiction(_Model):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    # GB/T 2260 prefix: "65" is Xinjiang; "" means the whole country.
    admin_division_code: str = Field(pattern=r"^\d{0,6}$")


class Instrument(_Model):
    type: Literal["law", "administrative_regulation", "local_regulation", "local_government_rule"]
    # Lower rank is higher authority: law 10 < admin regulation 20 < local 30 < rule 40.
    rank: int = Field(ge=1)
    issuer: str
    number: str


class PackInfo(_Model):
    id: str = Field(pattern=PACK_ID)
    title: Text
    jurisdiction: Jurisdiction
    instrument: Instrument
    promulgated: date
    effective: date
    repealed: date | None = None
    timezone: str
    articles: int = Field(ge=1, description="number of articles in the instrument")
    start_day_excluded: bool = True
    sources: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _dates_ordered(self) -> PackInfo:
        if self.effective < self.promulgated:
            raise ValueError("effective date precedes promulgation")
        if self.repealed is not None and self.repealed <= self.effective:
            raise ValueError("repealed on or before the effective date")
        return self


class SiteCategory(_Model):
    name: Text
    cite: Cite
    regime: Regime
    required_coverage: list[SnakeId] = Field(default_factory=list)
    # Ids of this pack's rules that do not apply to sites of this category (cn-2025
    # Art. 9 para 2 exempts other public places from Arts. 11, 14, 15, 16 para 2, 17).
    exempt_rules: list[SnakeId] = Field(default_factory=list)


class CoveragePoint(_Model):
    name: Text
    cite: Cite


class Placement(_Model):
    name: Text
    prohibited: bool
    cite: Cite | None = None

    @model_validator(mode="after")
    def _prohibition_cited(self) -> Placement:
        if self.prohibited and self.cite is None:
            raise ValueError("a prohibited placement needs its article in 'cite'")
        return self


class Fine(_Model):
    """A fine range in CNY; bounds are inclusive (以上/以下 include the number)."""

    min_cny: int = Field(ge=0)
    max_cny: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Fine:
        if self.min_cny > self.max_cny:
            raise ValueError("min_cny exceeds max_cny")
        return self


class Penalty(_Model):
    cite: Cite
    summary: Text
    # Staged: an order to correct comes first; the fine is due only if not corrected in time.
    staged: bool
    # The fine an operating unit faces; None where the article sets no amount.
    fine: Fine | None = None
    fines_by_subject: dict[Literal["unit", "individual", "responsible_person"], Fine] = Field(
        default_factory=dict
    )


class RetentionClass(_Model):
    name: Text
    cite: Cite
    min_days: int = Field(ge=0)
    max_days: int | None = Field(default=None, ge=0)
    # cn-2025 Art. 17: delete once the purpose is met (after the minimum).
    delete_when_purpose_met: bool = False


class Document(_Model):
    name: Text
    cite: Cite


Loc = tuple[str | int, ...]


class PackReferenceError(ValueError):
    """References that do not resolve; ``problems`` pairs each with its place in the pack."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


# ---- rules: one model per kind; the engine dispatches on ``kind`` ----


class _RuleBase(_Model):
    id: SnakeId
    cite: Cite
    summary: Text
    severity: Severity = "major"
    penalty: SnakeId | None = None


class PlacementProhibitedParams(_Model):
    placements: list[SnakeId] = Field(min_length=1)


class PlacementProhibitedRule(_RuleBase):
    """Cameras must not be installed at these placements (refused at registration)."""

    kind: Literal["placement_prohibited"]
    params: PlacementProhibitedParams


class InstallerRestrictedParams(_Model):
    regimes: list[Regime] = Field(min_length=1)
    allowed_owner_kinds: list[OrgKind] = Field(min_length=1)


class InstallerRestrictedRule(_RuleBase):
    """Only owners of the allowed kinds may install in sites of these regimes."""

    kind: Literal["installer_restricted"]
    params: InstallerRestrictedParams


class InstallerQualifiedRule(_RuleBase):
    """The installer must hold a valid qualification on the commissioning date."""

    kind: Literal["installer_qualified"]


class FilingDeadlineParams(_Model):
    event: Literal["commissioning", "removal"]
    days: int = Field(ge=1)
    # Systems already running when the pack took effect file within this many days of it.
    legacy_days: int | None = Field(default=None, ge=1)


class FilingDeadlineRule(_RuleBase):
    kind: Literal["filing_deadline"]
    params: FilingDeadlineParams


class CoverageRequiredParams(_Model):
    # Site regimes whose owner carries this duty (xj-2014 Art. 7: unit-managed sites;
    # Art. 6 sites are the government's to equip).
    regimes: list[Regime] = Field(default_factory=lambda: list(ALL_REGIMES), min_length=1)


class CoverageRequiredRule(_RuleBase):
    """Each required coverage point of a site's category needs an active camera."""

    kind: Literal["coverage_required"]
    params: CoverageRequiredParams = Field(default_factory=CoverageRequiredParams)


class ObstructionRule(_RuleBase):
    """An unresolved report that something blocks a camera is a violation."""

    kind: Literal["obstruction"]


class RetentionMinimumParams(_Model):
    retention_class: SnakeId


class RetentionMinimumRule(_RuleBase):
    kind: Literal["retention_minimum"]
    params: RetentionMinimumParams


class RetentionCeilingParams(_Model):
    retention_class: SnakeId


class RetentionCeilingRule(_RuleBase):
    """Footage past the class's maximum (or purpose met) without a mark or hold."""

    kind: Literal["retention_ceiling"]
    params: RetentionCeilingParams


class IntegrityRule(_RuleBase):
    """Original recordings must not be deleted, altered or hidden within retention."""

    kind: Literal["integrity"]


class AccessEntry(_Model):
    kinds: list[AccessKind] = Field(min_length=1)
    documents: list[SnakeId] = Field(default_factory=list)
    approvals: list[Literal["own_agency_head", "county_police"]] = Field(default_factory=list)
    cite: Cite


class AccessApprovalParams(_Model):
    matrix: dict[RequesterClass, AccessEntry]


class AccessApprovalRule(_RuleBase):
    kind: Literal["access_approval"]
    params: AccessApprovalParams


class PersonsPresentParams(_Model):
    min_persons: int = Field(ge=1)
    documents: list[SnakeId] = Field(default_factory=list)


class PersonsPresentRule(_RuleBase):
    kind: Literal["persons_present"]
    params: PersonsPresentParams


class AccessBoundsParams(_Model):
    # The longest a grant may stay valid once approved: no standing grants.
    max_grant_days: int = Field(default=30, ge=1)


class AccessBoundsRule(_RuleBase):
    """Bounds on every request and grant: a request covers recorded footage only (a
    range ending after now is refused) and a grant lasts at most ``max_grant_days``.
    ``basis`` says whether the regulation sets the bound or the operator does (the
    article is then the one the operator's policy implements)."""

    kind: Literal["access_bounds"]
    basis: Literal["regulation", "operator_policy"]
    params: AccessBoundsParams = Field(default_factory=AccessBoundsParams)


class AccessRegisterRule(_RuleBase):
    """Who recorded, who retrieved, when, why and where it went must be registered."""

    kind: Literal["access_register"]


class AccessControlRule(_RuleBase):
    """Footage and the data behind it are reachable only through the enforcement point:
    a file or directory of the deployment that other local accounts can read is a finding."""

    kind: Literal["access_control"]


class TrainingRequiredParams(_Model):
    roles: list[SnakeId] = Field(min_length=1)
    topics: list[SnakeId] = Field(min_length=1)


class TrainingRequiredRule(_RuleBase):
    kind: Literal["training_required"]
    params: TrainingRequiredParams


class IncidentReportRule(_RuleBase):
    """Suspicious public-security information is reported to the police promptly."""

    kind: Literal["incident_report"]


AlarmKind = Literal[
    "offline",
    "covered",
    "defocused",
    "moved",
    "too_dark",
    "overexposed",
    "bitrate_collapse",
    "framerate_collapse",
]


class AlarmOpenLimitParams(_Model):
    # Alarm kinds this limit applies to (services/alarms.py KINDS).
    kinds: list[AlarmKind] = Field(min_length=1)
    max_open_hours: int = Field(ge=1)


class AlarmOpenLimitRule(_RuleBase):
    """A camera alarm (offline, covered, moved, ...) may stay open at most this long:
    past it, the fault was not handled and the alarm becomes a finding."""

    kind: Literal["alarm_open_limit"]
    params: AlarmOpenLimitParams


class InspectionIntervalParams(_Model):
    # The operator sets each site's or camera's interval; a site with active cameras
    # and no schedule is due this many days after its first camera was commissioned.
    default_interval_days: int = Field(ge=1)
    # The longest interval an operator may schedule.
    max_interval_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> InspectionIntervalParams:
        if self.default_interval_days > self.max_interval_days:
            raise ValueError("default_interval_days exceeds max_interval_days")
        return self


class InspectionIntervalRule(_RuleBase):
    """Safety and maintenance inspections are done on schedule; an overdue one is a finding."""

    kind: Literal["inspection_interval"]
    params: InspectionIntervalParams


class ProcedureRequiredParams(_Model):
    # Days a site with active cameras has to put its procedure on file, counted from its
    # first camera's commissioning.
    grace_days: int = Field(default=0, ge=0)


class ProcedureRequiredRule(_RuleBase):
    """Each site with active cameras has an emergency-handling procedure on file."""

    kind: Literal["procedure_required"]
    params: ProcedureRequiredParams = Field(default_factory=ProcedureRequiredParams)


class ManualRule(_RuleBase):
    """An obligation no machine can check; listed so reviewers see it and its article."""

    kind: Literal["manual"]


Rule = Annotated[
    PlacementProhibitedRule
    | InstallerRestrictedRule
    | InstallerQualifiedRule
    | FilingDeadlineRule
    | CoverageRequiredRule
    | ObstructionRule
    | RetentionMinimumRule
    | RetentionCeilingRule
    | IntegrityRule
    | AccessApprovalRule
    | PersonsPresentRule
    | AccessBoundsRule
    | AccessRegisterRule
    | AccessControlRule
    | TrainingRequiredRule
    | IncidentReportRule
    | AlarmOpenLimitRule
    | InspectionIntervalRule
    | ProcedureRequiredRule
    | ManualRule,
    Field(discriminator="kind"),
]


RULE_KINDS: frozenset[str] = frozenset(
    kind
    for member in get_args(get_args(Rule)[0])
    for kind in get_args(member.model_fields["kind"].annotation)
)


class Informational(_Model):
    """An article with no checkable rule, and why (proves the pack covers every article)."""

    cite: Cite
    reason: str


class RulePack(_Model):
    schema_version: Literal[1]
    pack: PackInfo
    site_categories: dict[SnakeId, SiteCategory]
    coverage_points: dict[SnakeId, CoveragePoint]
    placements: dict[SnakeId, Placement]
    retention_classes: dict[SnakeId, RetentionClass] = Field(default_factory=dict)
    documents: dict[SnakeId, Document] = Field(default_factory=dict)
    penalties: dict[SnakeId, Penalty]
    rules: list[Rule]
    informational: list[Informational] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> RulePack:
        problems: list[tuple[Loc, str]] = []
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            at: Loc = ("rules", index)
            if rule.id in seen:
                problems.append(((*at, "id"), f"duplicate rule id {rule.id!r}"))
            seen.add(rule.id)
            if rule.penalty is not None and rule.penalty not in self.penalties:
                problems.append(
                    ((*at, "penalty"), f"rule {rule.id!r}: unknown penalty {rule.penalty!r}")
                )
            problems.extend(((*at, *loc), message) for loc, message in self._rule_references(rule))
        for cat_id, cat in self.site_categories.items():
            at = ("site_categories", cat_id)
            for i, point in enumerate(cat.required_coverage):
                if point not in self.coverage_points:
                    problems.append(
                        (
                            (*at, "required_coverage", i),
                            f"site category {cat_id!r}: unknown coverage point {point!r}",
                        )
                    )
            for i, rule_id in enumerate(cat.exempt_rules):
                if rule_id not in seen:
                    problems.append(
                        (
                            (*at, "exempt_rules", i),
                            f"site category {cat_id!r}: unknown rule {rule_id!r}",
                        )
                    )
        if problems:
            raise PackReferenceError(problems)
        return self

    def _rule_references(self, rule: Rule) -> list[tuple[Loc, str]]:
        """Dangling references inside one rule, located relative to the rule."""
        problems: list[tuple[Loc, str]] = []
        if isinstance(rule, PlacementProhibitedRule):
            for i, p in enumerate(rule.params.placements):
                placement = self.placements.get(p)
                loc: Loc = ("params", "placements", i)
                if placement is None:
                    problems.append((loc, f"rule {rule.id!r}: unknown placement {p!r}"))
                elif not placement.prohibited:
                    problems.append(
                        (loc, f"rule {rule.id!r}: placement {p!r} is not marked prohibited")
                    )
        elif isinstance(rule, RetentionMinimumRule | RetentionCeilingRule):
            if rule.params.retention_class not in self.retention_classes:
                problems.append(
                    (
                        ("params", "retention_class"),
                        f"rule {rule.id!r}: unknown retention class "
                        f"{rule.params.retention_class!r}",
                    )
                )
        elif isinstance(rule, AccessApprovalRule | PersonsPresentRule):
            docs: list[tuple[Loc, str]] = (
                [
                    (("params", "matrix", who, "documents", i), d)
                    for who, e in rule.params.matrix.items()
                    for i, d in enumerate(e.documents)
                ]
                if isinstance(rule, AccessApprovalRule)
                else [(("params", "documents", i), d) for i, d in enumerate(rule.params.documents)]
            )
            problems.extend(
                (loc, f"rule {rule.id!r}: unknown document {d!r}")
                for loc, d in docs
                if d not in self.documents
            )
        return problems

    def uncovered_articles(self) -> list[int]:
        """Articles cited by no rule, penalty, vocabulary entry or informational note."""
        cites: list[str] = [r.cite for r in self.rules]
        cites += [p.cite for p in self.penalties.values()]
        cites += [i.cite for i in self.informational]
        cites += [c.cite for c in self.site_categories.values()]
        cites += [c.cite for c in self.retention_classes.values()]
        cites += [p.cite for p in self.placements.values() if p.cite]
        covered = {a for c in cites for a in cited_articles(c)}
        return [a for a in range(1, self.pack.articles + 1) if a not in covered]

    def in_force(self, on: date) -> bool:
        info = self.pack
        return info.effective <= on and (info.repealed is None or on < info.repealed)
