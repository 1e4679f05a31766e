"""The console's navigation: each entry with the policy action that opens it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an i18n key
    action: str | None  # None: any logged-in person


NAV: tuple[NavItem, ...] = (
    NavItem("/", "nav.dashboard", None),
    NavItem("/live", "nav.live", "live.view"),  # the live wall, next to the dashboard
    NavItem("/registry", "nav.registry", "registry.read"),
    NavItem("/filing", "nav.filing", "registry.read"),
    NavItem("/recordings", "nav.recordings", "recordings.read"),
    NavItem("/health", "nav.health", "recordings.read"),
    NavItem("/retention", "nav.retention", "retention.read"),
    NavItem("/access", "nav.access", None),
    NavItem("/access/inbox", "access.inbox", "access.decide"),  # issue 22, item 5
    NavItem("/audit", "nav.audit", "audit.read"),
    NavItem("/compliance", "nav.compliance", "compliance.read"),
    NavItem("/ledger", "nav.ledger", None),
    NavItem("/people", "nav.people", "people.read"),
    NavItem("/exports", "nav.exports", "audit.read"),  # issue 22, item 6
)
