"""The console's navigation: each entry with the roles that may open it."""

from __future__ import annotations

from dataclasses import dataclass

from oversight.api import roles


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an i18n key
    roles: tuple[str, ...]


NAV: tuple[NavItem, ...] = (
    NavItem("/", "nav.dashboard", roles.ANYONE),
    NavItem("/registry", "nav.registry", roles.STAFF),
    NavItem("/filing", "nav.filing", roles.STAFF),
    NavItem("/recordings", "nav.recordings", roles.STAFF),
    NavItem("/health", "nav.health", roles.STAFF),
    NavItem("/retention", "nav.retention", roles.STAFF),
    NavItem("/access", "nav.access", roles.ANYONE),
    NavItem("/audit", "nav.audit", roles.AUDIT_READERS),
    NavItem("/compliance", "nav.compliance", roles.STAFF),
    NavItem("/ledger", "nav.ledger", roles.ANYONE),
    NavItem("/people", "nav.people", roles.PEOPLE_READERS),
)
