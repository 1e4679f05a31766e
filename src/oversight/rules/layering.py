"""Several rule packs applied at once.

Every rule in force on the date in question applies: prohibitions combine, the
strictest minimum wins, the earliest deadline wins, and a minimum above a maximum
is reported as a conflict. Vocabularies (site categories, placements, coverage
points) are the union of all configured packs. Ties go to the pack listed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from oversight.errors import InvalidInput
from oversight.rules.schema import (
    CoverageRequiredRule,
    FilingDeadlineRule,
    Penalty,
    PlacementProhibitedRule,
    Rule,
    RulePack,
    SiteCategory,
)

R = TypeVar("R", bound=Rule)


@dataclass(frozen=True)
class Cited:
    """A rule as it applies: which pack, which rule, which article, which penalty."""

    pack_id: str
    rule_id: str
    article: str
    penalty: Penalty | None


@dataclass(frozen=True)
class Deadline:
    due: date
    cited: Cited
    legacy: bool


@dataclass(frozen=True)
class Bound:
    days: int
    pack_id: str
    article: str


@dataclass(frozen=True)
class Conflict:
    """Merged minimum exceeds merged maximum: needs legal review."""

    retention_class: str
    minimum: Bound
    maximum: Bound

    @property
    def message(self) -> str:
        return (
            f"retention class {self.retention_class!r}: minimum {self.minimum.days} days "
            f"({self.minimum.pack_id} {self.minimum.article}) exceeds maximum "
            f"{self.maximum.days} days ({self.maximum.pack_id} {self.maximum.article})"
        )


class PackSet:
    def __init__(self, packs: list[RulePack]) -> None:
        if not packs:
            raise InvalidInput("at least one rule pack is required")
        self.packs = list(packs)

    @property
    def ids(self) -> list[str]:
        return [p.pack.id for p in self.packs]

    @property
    def timezone(self) -> ZoneInfo:
        """Local time of the first pack; dates in packs and on the CLI are local dates."""
        return ZoneInfo(self.packs[0].pack.timezone)

    def local_date(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        return moment.astimezone(self.timezone).date()

    def start_of_day(self, day: date) -> datetime:
        """The UTC instant at which a local date begins."""
        local = datetime(day.year, day.month, day.day, tzinfo=self.timezone)
        return local.astimezone(UTC)

    def active(self, on: date) -> list[RulePack]:
        return [p for p in self.packs if p.in_force(on)]

    def rules(
        self, kind: type[R], on: date, *, category: str | None = None
    ) -> list[tuple[RulePack, R]]:
        """Rules of a kind in force on a day; with ``category``, minus those the pack
        exempts sites of that category from (e.g. cn-2025 Art. 9 para 2)."""
        return [
            (p, r)
            for p in self.active(on)
            for r in p.rules
            if isinstance(r, kind) and not self.exempt(p, r.id, category)
        ]

    @staticmethod
    def exempt(pack: RulePack, rule_id: str, category: str | None) -> bool:
        cat = pack.site_categories.get(category) if category else None
        return cat is not None and rule_id in cat.exempt_rules

    def cited(self, pack: RulePack, rule: Rule, article: str | None = None) -> Cited:
        penalty = pack.penalties.get(rule.penalty) if rule.penalty else None
        return Cited(pack.pack.id, rule.id, article or rule.cite, penalty)

    # ---- vocabularies ----

    def site_categories(self) -> dict[str, list[tuple[RulePack, SiteCategory]]]:
        out: dict[str, list[tuple[RulePack, SiteCategory]]] = {}
        for pack in self.packs:
            for cat_id, cat in pack.site_categories.items():
                out.setdefault(cat_id, []).append((pack, cat))
        return out

    def require_site_category(self, cat_id: str) -> None:
        self._require(cat_id, {c for p in self.packs for c in p.site_categories}, "site category")

    def require_placement(self, placement: str) -> None:
        self._require(placement, {c for p in self.packs for c in p.placements}, "placement")

    def require_coverage_point(self, point: str) -> None:
        self._require(point, {c for p in self.packs for c in p.coverage_points}, "coverage point")

    def require_retention_class(self, name: str) -> None:
        known = {c for p in self.packs for c in p.retention_classes}
        self._require(name, known, "retention class")

    def _require(self, value: str, known: set[str], noun: str) -> None:
        if value not in known:
            raise InvalidInput(
                f"unknown {noun} {value!r} (known in {','.join(self.ids)}: "
                f"{', '.join(sorted(known))})"
            )

    # ---- merged rules ----

    def prohibitions(self, placement: str, on: date, *, category: str | None = None) -> list[Cited]:
        """Every rule in force that prohibits this placement (union across packs)."""
        out: list[Cited] = []
        for pack, rule in self.rules(PlacementProhibitedRule, on, category=category):
            if placement in rule.params.placements:
                out.append(self.cited(pack, rule, pack.placements[placement].cite))
        return out

    def required_coverage(
        self, category: str, on: date
    ) -> dict[str, list[tuple[RulePack, CoverageRequiredRule]]]:
        """Coverage points a site category requires, with the pack rules that require each."""
        out: dict[str, list[tuple[RulePack, CoverageRequiredRule]]] = {}
        for pack, rule in self.rules(CoverageRequiredRule, on, category=category):
            cat = pack.site_categories.get(category)
            if cat is None or cat.regime not in rule.params.regimes:
                continue
            for point in cat.required_coverage:
                out.setdefault(point, []).append((pack, rule))
        return out

    def filing_deadlines(
        self,
        event: str,
        event_date: date,
        on: date,
        *,
        removed: date | None = None,
        category: str | None = None,
    ) -> list[Deadline]:
        """Deadlines for filing an event, earliest first (ties: pack order).

        A pack applies to an event on or after its effective date (``days`` after the
        event), and, through ``legacy_days``, to a camera that was already running when
        it took effect (not ``removed`` by then). Packs not in force on ``on`` impose
        nothing.
        """
        out: list[Deadline] = []
        for pack, rule in self.rules(FilingDeadlineRule, on, category=category):
            params = rule.params
            if params.event != event:
                continue
            effective = pack.pack.effective
            if event_date >= effective:
                due, legacy = event_date + timedelta(days=params.days), False
            elif params.legacy_days is not None and (removed is None or removed > effective):
                due, legacy = effective + timedelta(days=params.legacy_days), True
            else:
                continue
            if not pack.pack.start_day_excluded:
                due -= timedelta(days=1)
            out.append(Deadline(due, self.cited(pack, rule), legacy))
        order_of = {pid: i for i, pid in enumerate(self.ids)}
        return sorted(out, key=lambda d: (d.due, order_of[d.cited.pack_id]))

    def retention_minimum(self, retention_class: str, on: date) -> Bound | None:
        """The strictest (largest) minimum among packs in force."""
        bounds = [
            Bound(c.min_days, p.pack.id, c.cite)
            for p in self.active(on)
            if (c := p.retention_classes.get(retention_class)) is not None
        ]
        return max(bounds, key=lambda b: b.days, default=None)

    def retention_maximum(self, retention_class: str, on: date) -> Bound | None:
        """The strictest (smallest) maximum among packs in force, if any sets one."""
        bounds = [
            Bound(c.max_days, p.pack.id, c.cite)
            for p in self.active(on)
            if (c := p.retention_classes.get(retention_class)) is not None
            and c.max_days is not None
        ]
        return min(bounds, key=lambda b: b.days, default=None)

    def conflicts(self, on: date) -> list[Conflict]:
        out: list[Conflict] = []
        classes = sorted({c for p in self.active(on) for c in p.retention_classes})
        for name in classes:
            low, high = self.retention_minimum(name, on), self.retention_maximum(name, on)
            if low is not None and high is not None and low.days > high.days:
                out.append(Conflict(name, low, high))
        return out
