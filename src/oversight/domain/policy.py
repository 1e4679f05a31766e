"""Authorization in one place: (person, action, target) -> allowed, or why not.

One table, :data:`TABLE`, says which roles may take each action and whether a person's
site scope applies to it. :func:`decide` applies it; services call it before every read
and write, and the CLI, the API and the console only translate its answer (a one-line
error with exit 2, a 403 with the rule). Nothing else in Oversight decides who may do
what; ``docs/people.md`` prints the table (``oversight.cli.docs`` keeps it current).

The scope rule: a person scoped to sites S (``Person.sites`` not empty) acts only on
targets all of whose sites are in S: cameras and their segments, gaps, marks, holds,
alarms and obstructions; requests and grants whose cameras are all at S; audit entries
about them; people scoped within S. A target at no site (an organisation, the rule
packs, the whole deployment) is out of every scope unless the rule says scoped people
may see it (``deployment_ok``); lists show a scoped person only what lies in scope.

Two principals are not accounts: :data:`SYSTEM` (the recorder, the monitor and the
retention run acting on their own) and :func:`host` (the operating-system account that
runs the CLI without logging in: it owns the data directory and could read the database
itself, so the policy grants it the registry and operations, never footage, access
decisions, the register or people).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from oversight.domain.people import Person
from oversight.errors import AuthenticationError, PermissionDenied

# Principals that are not accounts (see the module docstring); never grantable roles.
HOST_ROLE = "host"
SYSTEM_ROLE = "system"

ADMIN = "admin"
OPERATOR = "operator"
CUSTODIAN = "custodian"
AUDITOR = "auditor"
REQUESTER = "requester"
# Trained staff who may be the second person present at a release, and nothing else.
WITNESS = "witness"

STAFF = (ADMIN, OPERATOR, CUSTODIAN, AUDITOR)
REGISTRARS = (ADMIN, OPERATOR)
CUSTODIANS = (ADMIN, CUSTODIAN)
AUDIT_READERS = (ADMIN, CUSTODIAN, AUDITOR)
ANY_ACCOUNT: tuple[str, ...] = ()  # any logged-in, enabled account


@dataclass(frozen=True)
class Rule:
    """Who may take one action. ``roles`` empty: any account. ``scoped``: the person's
    site scope applies. ``owner``: the account that entered the target (a request) may
    also take it, whatever its roles. ``deployment_ok``: a scoped person may take it on
    a target at no site (deployment-wide reads such as the rule packs)."""

    roles: tuple[str, ...]
    summary: str
    scoped: bool = True
    owner: bool = False
    deployment_ok: bool = False
    host: bool = False  # the CLI's host principal may take it
    system: bool = False  # the system principal may take it


TABLE: dict[str, Rule] = {
    # ---- registry and filing (Arts. 6-11) ----
    "registry.read": Rule(
        STAFF,
        "see organisations, sites, cameras, filings, obstructions",
        deployment_ok=True,
        host=True,
        system=True,
    ),
    "registry.write": Rule(
        REGISTRARS,
        "register and change organisations, sites, cameras, filings and obstruction reports",
        host=True,
    ),
    # ---- recording and health ----
    "recordings.read": Rule(
        STAFF, "see segments, gaps, recorder status and health", host=True, system=True
    ),
    "recorder.run": Rule((ADMIN,), "run the recorder and the monitor", host=True, system=True),
    "recordings.diagnostics": Rule(
        (ADMIN, OPERATOR), "read the recorder's and ffmpeg's own error text (detail views)"
    ),
    "recorder.manage": Rule((ADMIN,), "drain recorder nodes of a pool", host=True),
    "alarms.raise": Rule(
        (ADMIN, OPERATOR, CUSTODIAN),
        "raise alarms and re-learn tamper references",
        host=True,
        system=True,
    ),
    "alarms.ack": Rule((ADMIN, OPERATOR, CUSTODIAN), "acknowledge alarms"),
    "maintenance.write": Rule(
        REGISTRARS, "schedule and record inspections, procedures, repairs (Art. 14(1))"
    ),
    "incidents.report": Rule(REGISTRARS, "report suspicious incidents (Art. 14(4))"),
    "incidents.read": Rule(STAFF, "read incident reports"),
    "compliance.read": Rule(
        STAFF, "read the compliance report and filings due", deployment_ok=True, host=True
    ),
    # ---- retention (Art. 15) ----
    "retention.read": Rule(
        STAFF,
        "see keep-for settings, marks, holds and the purge plan",
        deployment_ok=True,
        host=True,
        system=True,
    ),
    "retention.configure": Rule(REGISTRARS, "set keep-for periods", host=True),
    "retention.mark": Rule(CUSTODIANS, "mark footage important and place legal holds", host=True),
    "retention.release": Rule(CUSTODIANS, "release a legal hold (a second person)", host=True),
    "segments.delete": Rule(
        CUSTODIANS, "ask to delete one segment by hand (refused within retention)", host=True
    ),
    "retention.run": Rule((ADMIN,), "delete footage past retention", host=True, system=True),
    # ---- access governance (Arts. 16-17) ----
    # A role, not any account: a request stores its documents (finding 12 of issue 18).
    "access.request": Rule(
        (*STAFF, REQUESTER), "request access to footage and attach its documents"
    ),
    "access.read": Rule(
        AUDIT_READERS, "see access requests and grants (their own: anyone)", owner=True
    ),
    # The documents a request attaches (letters, ID scans): those who decide it, and the
    # account that entered it; every opening is a document.open leaf (issue 22, item 5).
    "access.documents": Rule(
        CUSTODIANS, "open the documents attached to access requests (their own: anyone)", owner=True
    ),
    "access.decide": Rule(CUSTODIANS, "approve or deny access requests"),
    "access.revoke": Rule(CUSTODIANS, "revoke grants"),
    "footage.view": Rule(CUSTODIANS, "execute a grant: play back footage"),
    "footage.export": Rule(CUSTODIANS, "execute a grant: export an evidence package"),
    "footage.witness": Rule((*STAFF, WITNESS), "be the second person present (Art. 17(3))"),
    # Live monitoring by staff on duty: the role and training (Art. 14(2)), not a grant;
    # every session is a view.live leaf (services/live.py).
    "live.view": Rule(
        (OPERATOR, CUSTODIAN), "watch cameras live, on duty and trained (Art. 14(2))"
    ),
    # ---- the register and the ledger (Art. 14(3)) ----
    "audit.read": Rule(AUDIT_READERS, "read the access register, including access leaves"),
    "ledger.read": Rule(
        (*STAFF, REQUESTER),
        "read checkpoints, proofs and non-access leaves",
        deployment_ok=True,
        host=True,
        system=True,
    ),
    "ledger.verify": Rule(
        (ADMIN, AUDITOR),
        "run a verification of store, index and ledger",
        deployment_ok=True,
        host=True,
        system=True,
    ),
    "ledger.keys": Rule(
        (ADMIN,),
        "rotate or retire the ledger's signing key",
        host=True,  # the OS account that holds the key file
    ),
    # ---- people (Art. 14(2)) ----
    "people.read": Rule((ADMIN, AUDITOR), "see accounts and training records"),
    "people.manage": Rule((ADMIN,), "add, disable, grant roles, reset passwords, record training"),
}


@dataclass(frozen=True)
class Target:
    """What an action is about: its kind and id (for messages), the sites it lies at
    (``None``: at no site, deployment-wide) and the account that entered it, if any."""

    kind: str
    id: str = ""
    sites: frozenset[str] | None = None
    owner: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}".strip()


DEPLOYMENT = Target("deployment")


def at_sites(kind: str, id: object, sites: Iterable[str], owner: str | None = None) -> Target:
    """A target lying at ``sites`` (every site its cameras are at)."""
    return Target(kind, str(id), frozenset(sites), owner)


def host(user: str) -> Person:
    """The host principal: the OS account running the CLI without a login."""
    return Person(id=user, name=f"host account {user}", roles=(HOST_ROLE,))


SYSTEM = Person(id="system", name="Oversight", roles=(SYSTEM_ROLE,))


def _roles_text(rule: Rule) -> str:
    return " or ".join(sorted(rule.roles)) if rule.roles else "an account"


def _role_allows(person: Person, rule: Rule) -> bool:
    if HOST_ROLE in person.roles:
        return rule.host
    if SYSTEM_ROLE in person.roles:
        return rule.system
    return not rule.roles or person.has_role(*rule.roles)


def decide(person: Person, action: str, target: Target = DEPLOYMENT) -> None:
    """Return if ``person`` may take ``action`` on ``target``; else raise
    :class:`PermissionDenied` naming the rule (``role``, ``site_scope``), or
    :class:`AuthenticationError` for a disabled account. Fails closed on an unknown
    action."""
    rule = TABLE.get(action)
    if rule is None:
        raise PermissionDenied(f"unknown action {action!r}: refused", rule="unknown_action")
    if person.disabled:
        raise AuthenticationError(f"user {person.id} is disabled")
    if rule.owner and target.owner is not None and target.owner == person.id:
        return
    if not _role_allows(person, rule):
        raise PermissionDenied(
            f"user {person.id} may not {rule.summary}: it needs the role {_roles_text(rule)}",
            rule="role",
        )
    if not (rule.scoped and person.sites):
        return
    scope = frozenset(person.sites)
    if target.sites is None:
        if rule.deployment_ok:
            return
        raise PermissionDenied(
            f"user {person.id} is limited to sites {', '.join(sorted(scope))}: "
            f"{target.label or 'this'} concerns the whole deployment",
            rule="site_scope",
        )
    outside = sorted(target.sites - scope)
    if outside or not target.sites:
        where = ", ".join(outside) or "no site"
        raise PermissionDenied(
            f"user {person.id} is limited to sites {', '.join(sorted(scope))}: "
            f"{target.label} is at {where}",
            rule="site_scope",
        )


def allowed(person: Person, action: str, target: Target = DEPLOYMENT) -> bool:
    """:func:`decide` as a yes or no, for what a page shows (never for what it does)."""
    try:
        decide(person, action, target)
    except (PermissionDenied, AuthenticationError):
        return False
    return True


def may_take(person: Person, action: str) -> bool:
    """Whether any target could be allowed: the role half of :func:`decide`, for routes
    and menus that gate a whole page before a target is known."""
    rule = TABLE.get(action)
    return rule is not None and not person.disabled and _role_allows(person, rule)


def require(person: Person, action: str) -> None:
    """The role half of :func:`decide`, raising; the target's check follows in the
    service once the target is loaded."""
    if not may_take(person, action):
        decide(person, action, DEPLOYMENT)  # raises with the right message
        raise PermissionDenied(f"user {person.id} may not take {action}", rule="role")


def site_filter(person: Person, action: str) -> frozenset[str] | None:
    """The sites whose items ``person`` may see under ``action`` (None: every site).
    Raises like :func:`require` when the role does not allow the action at all."""
    require(person, action)
    rule = TABLE[action]
    return frozenset(person.sites) if rule.scoped and person.sites else None


def visible(person: Person, action: str, sites: Collection[str], owner: str | None = None) -> bool:
    """Whether an item at ``sites`` (entered by ``owner``) belongs in ``person``'s list."""
    return allowed(person, action, Target("item", "", frozenset(sites), owner))


def table_rows() -> list[tuple[str, str, str, str]]:
    """(action, roles, scope, what) for the documentation."""
    rows = []
    for action, rule in TABLE.items():
        roles = ", ".join(rule.roles) if rule.roles else "any account"
        extra = [x for x, on in (("own", rule.owner), ("host", rule.host)) if on]
        if extra:
            roles += " (+" + ", ".join(extra) + ")"
        if not rule.scoped:
            scope = "all sites"
        elif rule.deployment_ok:
            scope = "in scope; deployment-wide reads allowed"
        else:
            scope = "targets in scope only"
        rows.append((action, roles, scope, rule.summary))
    return rows
