"""People, roles and the training gate (Art. 14(2)): pure rules, no I/O, no clock.

A :class:`Person` is an account with roles and an optional site scope. Who may do what
with accounts, the password rule, the login back-off and the training gate live here;
``services/people.py`` and ``services/auth.py`` apply them inside transactions.

The training gate comes from the rule packs (``training_required`` rules): the roles
that need training and the topics it must cover are the pack's, and a refusal cites
the pack's article. Nothing here names a pack.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from oversight.errors import AuthenticationError as AuthenticationError  # re-exported
from oversight.errors import InvalidInput, RuleViolation
from oversight.errors import PermissionDenied as PermissionDenied  # re-exported
from oversight.rules.layering import Cited, PackSet
from oversight.rules.schema import Severity, TrainingRequiredRule

ROLES: tuple[str, ...] = ("admin", "operator", "custodian", "auditor", "witness", "requester")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; this bounds the work per attempt

# Login back-off: a delay before each attempt that follows failures, then a lockout.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MAX_DELAY_S = 8.0
SESSION_TTL = timedelta(hours=8)

# Spellings accepted on the command line for the packs' topic ids.
TOPIC_ALIASES = {"skills": "job_skills"}

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DOC_RE = re.compile(r"^[A-Z0-9-]{4,64}$")


@dataclass(frozen=True)
class Training:
    user_id: str
    trained_on: date
    valid_until: date
    topics: tuple[str, ...]
    recorded_by: str = ""
    id: int | None = None

    def valid_on(self, day: date) -> bool:
        return self.trained_on <= day <= self.valid_until


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    roles: tuple[str, ...]
    sites: tuple[str, ...] = ()
    # Shown only masked (masked_id_doc); never logged, never in a ledger leaf.
    id_doc: str | None = field(default=None, repr=False)
    disabled: bool = False
    trainings: tuple[Training, ...] = ()

    @property
    def masked_id_doc(self) -> str | None:
        return mask_id_doc(self.id_doc) if self.id_doc else None

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


@dataclass(frozen=True)
class Requirement:
    """A training rule as it applies: which roles it gates and which topics it needs."""

    cited: Cited
    roles: frozenset[str]
    topics: frozenset[str]
    severity: Severity = "major"


@dataclass(frozen=True)
class TrainingGap:
    """A person holding gated roles without valid training in some required topics."""

    requirement: Requirement
    roles: tuple[str, ...]
    missing: tuple[str, ...]
    expired_on: date | None  # the last day the most recent covering training was valid


# ---- identities ----


def check_user_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise InvalidInput(
            f"user id {value!r} is invalid: use 1-64 letters, digits, '_', '.' or '-'"
        )
    return value


def check_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput("--name must not be empty")
    if len(value) > 200:
        raise InvalidInput("--name is longer than 200 characters")
    return value


def normalise_id_doc(value: str) -> str:
    """An identity-document number, compared ignoring case, spaces and dashes' spacing."""
    doc = "".join(value.split()).upper()
    if not _DOC_RE.match(doc):
        # Never echo the number itself: it is personal data.
        raise InvalidInput("--id-doc must be 4-64 letters, digits or '-'")
    return doc


def mask_id_doc(doc: str) -> str:
    """The last 4 characters only, behind a fixed-width mask that hides the length."""
    return "****" + (doc[-4:] if len(doc) > 4 else "")


def same_person(a: Person, b: Person) -> bool:
    """One human being behind both accounts: the same account, or the same identity
    document (two accounts may share one; the two-person rule must not count them twice)."""
    if a.id == b.id:
        return True
    return a.id_doc is not None and b.id_doc is not None and a.id_doc == b.id_doc


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Known roles, de-duplicated, in the canonical order of :data:`ROLES`."""
    given = {r.strip() for r in roles}
    unknown = sorted(given - set(ROLES))
    if unknown:
        raise InvalidInput(f"unknown role {unknown[0]!r} (use {'|'.join(ROLES)})")
    return tuple(r for r in ROLES if r in given)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(f"the password must have at most {MAX_PASSWORD_CHARS} characters")
    if password != password.strip():
        raise InvalidInput("the password must not begin or end with white space")


# ---- who may do what with accounts ----


def require_role(person: Person, roles: Collection[str], action: str = "do this") -> None:
    if person.disabled:
        raise AuthenticationError(f"user {person.id} is disabled")
    if roles and not person.has_role(*roles):
        raise PermissionDenied(
            f"user {person.id} may not {action}: it needs the role {' or '.join(sorted(roles))}"
        )


# Who may manage accounts at all is the policy's (``people.manage`` in domain/policy.py);
# these are the rules about one's own account that hold on top of it.


def check_may_change_roles(actor: Person, target_id: str) -> None:
    if actor.id == target_id:
        raise PermissionDenied("nobody changes their own roles: ask another admin")


def check_may_set_password(actor: Person, target_id: str) -> None:
    require_role(actor, ())  # a disabled account changes nothing, not even its password


def check_may_disable(actor: Person, target: Person) -> None:
    """Nobody disables themselves (so the last admin stays)."""
    if actor.id == target.id:
        raise PermissionDenied("nobody disables their own account: ask another admin")
    if target.disabled:
        raise InvalidInput(f"user {target.id} is already disabled")


# ---- login back-off ----


def login_delay(failures: int) -> float:
    """Seconds to wait before checking a password after ``failures`` consecutive failures."""
    return 0.0 if failures <= 0 else min(2.0**failures, MAX_DELAY_S)


def locked_until(failures: int, now: datetime) -> datetime | None:
    """After the MAX_FAILURES-th consecutive failure the account is locked for LOCKOUT."""
    return now + LOCKOUT if failures >= MAX_FAILURES else None


# ---- training ----


def known_topics(packs: PackSet) -> frozenset[str]:
    """Every topic any configured pack's training rule names (in force or not)."""
    return frozenset(
        t
        for p in packs.packs
        for r in p.rules
        if isinstance(r, TrainingRequiredRule)
        for t in r.params.topics
    )


def normalise_topics(raw: Iterable[str], known: Collection[str]) -> tuple[str, ...]:
    topics: list[str] = []
    for item in raw:
        topic = item.strip().lower()
        topic = TOPIC_ALIASES.get(topic, topic)
        if not topic:
            continue
        if known and topic not in known:
            aliases = [a for a, t in TOPIC_ALIASES.items() if t in known]
            raise InvalidInput(
                f"unknown training topic {item.strip()!r} "
                f"(use {', '.join(sorted({*known, *aliases}))})"
            )
        if topic not in topics:
            topics.append(topic)
    if not topics:
        raise InvalidInput("--topics must name at least one topic")
    return tuple(sorted(topics))


def check_training_dates(trained_on: date, valid_until: date, today: date) -> None:
    if trained_on > today:
        raise InvalidInput(f"--date {trained_on} is in the future")
    if valid_until < trained_on:
        raise InvalidInput(f"--valid-until {valid_until} precedes --date {trained_on}")


def requirements(
    packs: PackSet, on: date, categories: Collection[str] | None = None
) -> list[Requirement]:
    """Training rules in force on ``on``. With ``categories`` (those of the sites a person
    is scoped to), a rule every one of those categories is exempt from does not apply."""
    out = []
    for pack, rule in packs.rules(TrainingRequiredRule, on):
        if categories and all(packs.exempt(pack, rule.id, c) for c in categories):
            continue
        out.append(
            Requirement(
                packs.cited(pack, rule),
                frozenset(rule.params.roles),
                frozenset(rule.params.topics),
                rule.severity,
            )
        )
    return out


def covered_topics(trainings: Iterable[Training], on: date) -> frozenset[str]:
    return frozenset(t for tr in trainings if tr.valid_on(on) for t in tr.topics)


def _missing(person: Person, req: Requirement, on: date) -> tuple[str, ...]:
    return tuple(sorted(req.topics - covered_topics(person.trainings, on)))


def check_role_grant(
    person: Person,
    roles: Iterable[str],
    packs: PackSet,
    on: date,
    categories: Collection[str] | None = None,
) -> None:
    """Refuse giving ``roles`` to a person whose training does not cover what the packs
    require for them on ``on`` (Art. 14(2) in xj-2014)."""
    wanted = set(roles)
    for req in requirements(packs, on, categories):
        gated = sorted(req.roles & wanted)
        missing = _missing(person, req, on)
        if gated and missing:
            raise RuleViolation(
                f"user {person.id} has no valid training in {', '.join(missing)} on {on}: "
                f"cannot be given the role {', '.join(gated)}",
                rule=req.cited.rule_id,
                article=req.cited.article,
            )


def check_trained(
    person: Person, packs: PackSet, on: date, categories: Collection[str] | None = None
) -> None:
    """Refuse a person without valid training taking part in a viewing, copy or retrieval."""
    if person.disabled:
        raise AuthenticationError(f"user {person.id} is disabled")
    for req in requirements(packs, on, categories):
        missing = _missing(person, req, on)
        if missing:
            raise RuleViolation(
                f"user {person.id} has no valid training in {', '.join(missing)} on {on}: "
                "may not take part in viewing, copying or retrieving footage",
                rule=req.cited.rule_id,
                article=req.cited.article,
            )


def training_gaps(
    person: Person, packs: PackSet, on: date, categories: Collection[str] | None = None
) -> list[TrainingGap]:
    """For the compliance report: gated roles held without valid training."""
    if person.disabled:
        return []
    out = []
    for req in requirements(packs, on, categories):
        held = tuple(r for r in person.roles if r in req.roles)
        missing = _missing(person, req, on)
        if not held or not missing:
            continue
        ended = [
            tr.valid_until
            for tr in person.trainings
            if tr.valid_until < on and set(tr.topics) & set(missing)
        ]
        out.append(TrainingGap(req, held, missing, max(ended, default=None)))
    return out


def latest_training(trainings: Sequence[Training]) -> Training | None:
    return max(trainings, key=lambda t: (t.valid_until, t.trained_on), default=None)
